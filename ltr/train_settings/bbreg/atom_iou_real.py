"""IoU-MSE twin of ``atom_ebm_real`` (ATOM*): the same data, feature cache, budget and ImageNet backbone.

The IoU-Net regresses ``2 * IoU - 1`` of 128 proposals drawn from the same GMM; only the objective differs.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ltr.train_settings.bbreg.atom_ebm_real import RECIPE as EBM_RECIPE
from ltr.train_settings.bbreg_recipe import BBRegRecipe, run_bbreg
from ltr.train_settings.options import TrainingOptions

RECIPE: BBRegRecipe = replace(EBM_RECIPE, objective="iou")


def run(settings: TrainingOptions) -> list[dict[str, Any]]:
    """Train; returns the per-epoch log rows."""
    return run_bbreg(settings, RECIPE)
