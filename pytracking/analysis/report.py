"""Score result files of one or more trackers on a data set: table, success / precision plots and JSON.

    atom-ebm report --dataset NAME [--dataset-root ROOT] [--split S] --results-dir DIR
        --trackers T/P [T/P ...] [--protocol pytracking|got10k] [--plot-dir D] [--json F]
        [--html DIR [--html-frames N]] [--debug]

(or ``python -m pytracking.analysis.report ...``).

Reads ``DIR/T/P/<seq>.txt`` as written by ``pytracking.run_tracker``. Sequences without a result file are
named on stderr and in the JSON, and the tracker's row averages the sequences it has (column "Seqs").
A result file whose row count differs from the sequence length is an error unless
``--allow-length-mismatch`` (then the protocol's cut / zero-pad rule applies).
``--html DIR`` also writes ``DIR/index.html``, one self-contained page (see ``pytracking.analysis.html_report``).
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import shlex
import sys
from pathlib import Path

import numpy as np

from ltr.dataset.benchmarks import list_datasets, load_dataset
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.box_io import load_boxes
from ltr.utils.cli_errors import ArgumentParser, run_command
from ltr.utils.files import atomic_write_text
from pytracking.analysis.metrics import PROTOCOLS, dataset_metrics, sequence_metrics
from pytracking.evaluation.runner import result_dir, result_file
from pytracking.utils.cli_checks import check_output_file, check_output_folder

logger = logging.getLogger("pytracking.analysis.report")

SCORE_COLUMNS = (("auc", "AUC"), ("op50", "OP50"), ("op75", "OP75"), ("precision", "Precision"), ("norm_precision", "Norm. Prec."))


def parse_tracker(text: str) -> tuple[str, str]:
    """``"tracker/param"`` -> (tracker, param)."""
    parts = text.split("/")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"--trackers entries must look like TRACKER/PARAM, got '{text}'")
    return parts[0], parts[1]


def evaluate_tracker(
    sequences: list[Sequence], out_dir: Path, protocol: str, allow_length_mismatch: bool = False
) -> tuple[dict | None, dict[str, dict], list[str]]:
    """Score the result files in ``out_dir``.

    Returns:
        (data-set metrics or None when no result file exists, per-sequence metrics, missing sequence names).

    Raises:
        ValueError: malformed or wrong-length result file, hidden ground truth (file named in the message).
    """
    per_sequence: dict[str, dict] = {}
    missing: list[str] = []
    for sequence in sequences:
        path = result_file(out_dir, sequence.name)
        if not path.is_file():
            missing.append(sequence.name)
            continue
        gt = sequence.ground_truth
        if len(gt) > 1 and np.isnan(gt[1:]).all():
            raise ValueError(f"sequence {sequence.name} has no ground truth after frame 0 (hidden test labels); it cannot be scored locally")
        pred = load_boxes(path)
        if len(pred) != len(gt) and not allow_length_mismatch:
            raise ValueError(f"{path}: {len(pred)} rows but sequence {sequence.name} has {len(gt)} frames")
        try:
            per_sequence[sequence.name] = sequence_metrics(
                pred, gt, dataset=sequence.dataset, protocol=protocol, target_visible=sequence.target_visible
            )
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    overall = dataset_metrics(per_sequence.values()) if per_sequence else None
    return overall, per_sequence, missing


def format_table(rows: dict[str, dict | None], counts: dict[str, tuple[int, int]]) -> str:
    """Plain-text table, one row per tracker: scores in percent and ``present/total`` sequences."""
    name_width = max([len("Tracker")] + [len(label) for label in rows])
    header = f"{'Tracker':<{name_width}}" + "".join(f" {title:>11}" for _, title in SCORE_COLUMNS) + f" {'Seqs':>9}"
    lines = [header, "-" * len(header)]
    for label, metrics in rows.items():
        present, total = counts[label]
        if metrics is None:
            cells = "".join(f" {'-':>11}" for _ in SCORE_COLUMNS)
        else:
            cells = "".join(f" {metrics[key]:>11.2f}" for key, _ in SCORE_COLUMNS)
        lines.append(f"{label:<{name_width}}{cells} {f'{present}/{total}':>9}")
    return "\n".join(lines)


def _jsonable(metrics: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in metrics.items()}


PROG = "python -m pytracking.analysis.report"


def _frame_count(text: str) -> int:
    """argparse type of ``--html-frames``: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a frame count (an integer >= 0)")
    return value


def build_parser(prog: str = PROG) -> ArgumentParser:
    """Command-line interface (``prog``: how the command was called, shown in help and errors)."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help=f"one of: {', '.join(list_datasets())}")
    parser.add_argument("--dataset-root", default=None, help="data-set folder (default: its env var, e.g. UAV123_ROOT)")
    parser.add_argument("--split", default=None, help="data-set split (default: the evaluation split)")
    parser.add_argument("--sequence", nargs="+", default=None, help="score only these sequences")
    parser.add_argument("--results-dir", default="results", help="results root (default ./results)")
    parser.add_argument("--trackers", nargs="+", required=True, metavar="T/P", help="trackers as TRACKER/PARAM")
    parser.add_argument("--protocol", default="pytracking", choices=PROTOCOLS, help="metric protocol (default pytracking)")
    parser.add_argument("--plot-dir", default=None, help="write success / precision PNG plots here")
    parser.add_argument("--json", default=None, help="write all metrics (per tracker and per sequence) to this JSON file")
    parser.add_argument("--html", default=None, metavar="DIR", help="write a self-contained results page DIR/index.html")
    parser.add_argument("--html-frames", type=_frame_count, default=6, metavar="N",
                        help="thumbnails per sequence on the --html page (default 6, 0: none)")
    parser.add_argument("--allow-length-mismatch", action="store_true", help="cut / zero-pad result files of the wrong length")
    return parser


def _run(args: argparse.Namespace, prog: str, argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    check_output_file("--json", args.json, make_folders=True)
    check_output_folder("--plot-dir", args.plot_dir)
    check_output_folder("--html", args.html)
    trackers = [parse_tracker(t) for t in args.trackers]
    sequences = load_dataset(args.dataset, args.dataset_root, split=args.split, sequences=args.sequence)
    rows: dict[str, dict | None] = {}
    counts: dict[str, tuple[int, int]] = {}
    report: dict = {"dataset": args.dataset, "split": args.split, "protocol": args.protocol, "trackers": {}}
    results: list[tuple[str, dict | None, dict[str, dict], list[str], Path]] = []
    for tracker, param in trackers:
        label = f"{tracker}/{param}"
        out_dir = result_dir(args.results_dir, tracker, param)
        overall, per_sequence, missing = evaluate_tracker(sequences, out_dir, args.protocol, args.allow_length_mismatch)
        results.append((label, overall, per_sequence, missing, out_dir))
        if missing:
            shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
            print(f"{prog}: {label}: {len(missing)} of {len(sequences)} sequences have no result file: {shown}", file=sys.stderr)
        rows[label] = overall
        counts[label] = (len(per_sequence), len(sequences))
        report["trackers"][label] = {
            "overall": None if overall is None else _jsonable(overall),
            "missing": missing,
            "sequences": {name: _jsonable(m) for name, m in per_sequence.items()},
        }
    if all(metrics is None for metrics in rows.values()):
        raise FileNotFoundError(f"no result files for {', '.join(rows)} under {args.results_dir}")
    print(format_table(rows, counts))
    scored = {label: metrics for label, metrics in rows.items() if metrics is not None}
    if args.plot_dir:
        from pytracking.analysis.plots import plot_curves

        for kind in ("success", "precision", "norm_precision"):
            plot_curves(scored, kind, Path(args.plot_dir) / f"{args.dataset}_{kind}.png", title=args.dataset)
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=1) + "\n")
    if args.html:
        from pytracking.analysis.html_report import TrackerResults, write_html_report

        page = write_html_report(
            args.html, trackers=[TrackerResults(*r) for r in results], sequences=sequences, columns=SCORE_COLUMNS,
            dataset=args.dataset, split=args.split, protocol=args.protocol,
            command=f"{prog} {shlex.join(argv)}", frames_per_sequence=args.html_frames,
        )
        print(f"{prog}: wrote {page}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Entry point: 0 done, 2 bad arguments or result files (one line on stderr), 1 a failure while writing."""
    argv = sys.argv[1:] if argv is None else list(argv)
    return run_command(build_parser(prog), argv, functools.partial(_run, prog=prog, argv=argv))


if __name__ == "__main__":
    sys.exit(main())
