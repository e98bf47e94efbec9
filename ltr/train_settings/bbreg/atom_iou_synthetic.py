"""ATOM* baseline (IoU-MSE) on data available offline: ``atom_ebm_synthetic`` with only the objective changed.

Same data, proposals, schedule and seed handling as ``atom_ebm_synthetic``, so the two form a controlled
comparison of the training objective (the EBM-vs-IoU-Net study).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ltr.train_settings.bbreg import atom_ebm_synthetic
from ltr.train_settings.bbreg_recipe import run_bbreg
from ltr.train_settings.options import TrainingOptions

RECIPE = dataclasses.replace(atom_ebm_synthetic.RECIPE, objective="iou")


def run(settings: TrainingOptions) -> list[dict[str, Any]]:
    """Train; returns the per-epoch log rows."""
    return run_bbreg(settings, RECIPE)
