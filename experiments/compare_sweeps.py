"""Compare sweep results of different runs (e.g. two networks): each setting's AUC against the first file's.

    python experiments/compare_sweeps.py BASE.json OTHER.json [OTHER.json ...] [--setting default]

Each file is a result of ``experiments/sweep_parameters.py`` on the same sequences and domains. For every other file,
the chosen setting (default: each file's first) is compared with the base file's on the same sequences
(``pytracking.analysis.paired``: the difference of the domain-weighted means, its interval from resampling the
sequences, the sequences up and down, the largest single change), then per domain.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pytracking.analysis.paired import domain_weighted_mean, paired_difference


def read_setting(path: Path, setting: str | None) -> tuple[dict, dict[str, list[str]]]:
    """The result row of ``setting`` (its ``variant`` name; None: the first row) in a sweep file, and its domains."""
    record = json.loads(path.read_text())
    rows = record["results"]
    if setting is not None:
        rows = [row for row in rows if row["variant"] == setting]
        if not rows:
            raise ValueError(f"{path}: no setting named {setting!r}")
    return rows[0], record["domains"]


def compare(base: dict, other: dict, domains: dict[str, list[str]]) -> dict:
    """``other``'s per-sequence AUC against ``base``'s: overall (``paired_difference``) and per domain."""
    auc = [{name: values["auc"] for name, values in row["per_sequence"].items()} for row in (base, other)]
    missing = sorted({name for names in domains.values() for name in names} - set(auc[0]).intersection(auc[1]))
    if missing:
        raise ValueError(f"sequences missing from a result: {', '.join(missing)}")
    per_domain = {domain: domain_weighted_mean(auc[1], {domain: names}) - domain_weighted_mean(auc[0], {domain: names})
                  for domain, names in domains.items()}
    return {"overall": paired_difference(*auc, domains), "per_domain": per_domain,
            "auc": (domain_weighted_mean(auc[0], domains), domain_weighted_mean(auc[1], domains))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="sweep_parameters.py result to compare against")
    parser.add_argument("others", type=Path, nargs="+", help="results to compare with it")
    parser.add_argument("--setting", default=None, help="the setting (variant name) to compare; default: the first")
    args = parser.parse_args(argv)
    try:
        base, domains = read_setting(args.base, args.setting)
        for path in args.others:
            other, other_domains = read_setting(path, args.setting)
            if other_domains != domains:
                raise ValueError(f"{path}: other sequences or domains than {args.base}")
            result = compare(base, other, domains)
            print(f"{path}: AUC {result['auc'][1]:.1f} against {result['auc'][0]:.1f}: {result['overall'].summary()}")
            print("  per domain: " + ", ".join(f"{d} {v:+.1f}" for d, v in result["per_domain"].items()))
    except (OSError, ValueError, KeyError) as error:
        print(f"compare_sweeps: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
