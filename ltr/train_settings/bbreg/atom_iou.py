"""ATOM* baseline of the paper: IoU-Net trained with IoU-MSE on GMM proposals (facts section c, atom_gmm_sampl).

Exactly ``atom_ebm`` (data, 128 proposals from the GMM with sigmas (0.05, 0.05) / (0.5, 0.5), schedule) except
the objective: MSE between the prediction and 2*IoU-1 with the continuous IoU (no ground-truth box, no
rounding, no minimum IoU).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ltr.train_settings.bbreg import atom_ebm
from ltr.train_settings.bbreg_recipe import run_bbreg
from ltr.train_settings.options import TrainingOptions

RECIPE = dataclasses.replace(atom_ebm.RECIPE, objective="iou")


def run(settings: TrainingOptions) -> list[dict[str, Any]]:
    """Train; returns the per-epoch log rows."""
    return run_bbreg(settings, RECIPE)
