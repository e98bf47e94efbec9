"""ATOM* baseline of the paper: IoU-Net trained with IoU-MSE on GMM proposals (facts section c, atom_gmm_sampl).

128 proposals per test frame from the GMM with sigmas (0.05, 0.05) and (0.5, 0.5) (no ground-truth box, no
rounding, no minimum IoU), target 2*IoU-1 with the continuous IoU; everything else as ``atom_ebm``.
"""
from __future__ import annotations

from typing import Any

from ltr.train_settings.bbreg_recipe import BBRegRecipe, run_bbreg
from ltr.train_settings.datasets import paper_training, paper_validation
from ltr.train_settings.options import TrainingOptions

RECIPE = BBRegRecipe(
    objective="iou",
    train_datasets=paper_training,
    val_datasets=paper_validation,
    backbone_pretrained=True,
    num_proposals=128,
    proposal_sigmas=((0.05, 0.05), (0.5, 0.5)),
    max_gap=200,
    batch_size=64,
    epochs=50,
    samples_per_epoch=1000 * 64,
    val_samples=500 * 64,
    val_interval=5,
)


def run(settings: TrainingOptions) -> list[dict[str, Any]]:
    """Train; returns the per-epoch log rows."""
    return run_bbreg(settings, RECIPE)
