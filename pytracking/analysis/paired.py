"""Is a setting better than another on a set of sequences, or did one sequence flip? Paired differences with an
interval.

Short clips make single sequences flip between a kept and a lost target (one run of one clip can move 30 AUC points),
so a mean over sequences moves by a point when a single sequence flips. ``paired_difference`` compares two settings on
the same sequences: the difference of the domain-weighted means (each domain's mean over its sequences, then the mean
over domains, as the selection score), a percentile interval from resampling the sequences within each domain
(a paired bootstrap: the interval is wide when the difference rests on few sequences), how many sequences went up
and down, and the largest single-sequence change.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PairedDifference:
    """``mean``: difference of the domain-weighted means (B - A); ``low`` .. ``high``: its bootstrap interval;
    ``up`` / ``down``: sequences where B scored higher / lower; ``largest``: (sequence, B - A) with the largest
    absolute change."""

    mean: float
    low: float
    high: float
    up: int
    down: int
    largest: tuple[str, float]

    def summary(self) -> str:
        """One line, e.g. "+1.0 (-0.4 .. +2.6); up in 12, down in 9 sequences; largest change kite-surf +24.1"."""
        name, change = self.largest
        return (f"{self.mean:+.1f} ({self.low:+.1f} .. {self.high:+.1f}); up in {self.up}, down in {self.down} "
                f"sequences; largest change {name} {change:+.1f}")


def domain_weighted_mean(values: dict[str, float], domains: dict[str, list[str]]) -> float:
    """The mean over domains of each domain's mean over its sequences' ``values``."""
    return float(np.mean([np.mean([values[name] for name in names]) for names in domains.values()]))


def paired_difference(a: dict[str, float], b: dict[str, float], domains: dict[str, list[str]], *,
                      confidence: float = 0.9, resamples: int = 2000, seed: int = 0) -> PairedDifference:
    """Compare per-sequence scores ``b`` against ``a`` (sequence name -> score) on ``domains`` (domain -> sequence
    names; every name in both ``a`` and ``b``).

    The interval is the central ``confidence`` share of ``resamples`` domain-weighted mean differences, each over
    sequences drawn with replacement within every domain (seeded: the same inputs give the same interval).
    """
    if not domains or any(not names for names in domains.values()):
        raise ValueError("paired_difference needs at least one domain and one sequence in every domain")
    if not 0.0 < confidence < 1.0 or resamples < 1:
        raise ValueError(f"need 0 < confidence < 1 and resamples >= 1, got {confidence} and {resamples}")
    diffs = {name: b[name] - a[name] for names in domains.values() for name in names}
    rng = np.random.default_rng(seed)
    draws = np.zeros(resamples)
    for names in domains.values():
        values = np.array([diffs[name] for name in names])
        draws += values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    draws /= len(domains)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    largest = max(diffs, key=lambda name: abs(diffs[name]))
    return PairedDifference(domain_weighted_mean(diffs, domains), float(low), float(high),
                            sum(d > 0 for d in diffs.values()), sum(d < 0 for d in diffs.values()),
                            (largest, diffs[largest]))
