"""Success and precision plots (PNG, matplotlib Agg backend), written atomically."""
from __future__ import annotations

import os
from typing import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from ltr.utils.files import atomic_write  # noqa: E402

_KINDS = {
    "success": ("success_thresholds", "success_curve", "auc", "Overlap threshold", "Success rate [%]", "Success plot"),
    "precision": ("precision_thresholds", "precision_curve", "precision", "Location error threshold [px]", "Precision [%]", "Precision plot"),
    "norm_precision": (
        "norm_precision_thresholds", "norm_precision_curve", "norm_precision",
        "Normalised location error threshold", "Normalised precision [%]", "Normalised precision plot",
    ),
}


def plot_curves(results: Mapping[str, Mapping], kind: str, path: str | os.PathLike, title: str = "") -> None:
    """Plot one curve per tracker and save a PNG.

    Args:
        results: label (e.g. ``"atom_ebm/default"``) -> metrics dict from ``dataset_metrics``.
        kind: ``"success"``, ``"precision"`` or ``"norm_precision"``.
        path: output PNG file (written atomically).
        title: plot title prefix, e.g. the data-set name.
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown plot kind '{kind}'; valid: {', '.join(_KINDS)}")
    x_key, y_key, score_key, x_label, y_label, default_title = _KINDS[kind]
    figure, axes = plt.subplots(figsize=(6.0, 4.5), dpi=100)
    ranked = sorted(results.items(), key=lambda item: -item[1][score_key])
    for label, metrics in ranked:
        axes.plot(np.asarray(metrics[x_key]), np.asarray(metrics[y_key]), linewidth=2, label=f"{label} [{metrics[score_key]:.1f}]")
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_ylim(0, 100)
    axes.grid(True, linestyle=":")
    axes.set_title(f"{title} {default_title}".strip())
    axes.legend(loc="lower left" if kind == "success" else "lower right", fontsize=8)
    figure.tight_layout()

    def _write(tmp: str) -> None:
        figure.savefig(tmp, format="png")

    try:
        atomic_write(path, _write)
    finally:
        plt.close(figure)
