"""ATOM-EBM on data available offline: procedural sequences + the local real training sequences.

EBM NLL objective with the paper's proposal settings (128 GMM proposals, sigmas (0.05, 0.05) / (0.5, 0.5)),
Adam 1e-3 with StepLR (15 epochs, x0.2). The backbone starts from random weights (no ImageNet download
here); add ``--train-backbone`` to learn it too. Held-out sequences (Couple, Football1, person9) are never used.
Validation: a fixed set of held-out synthetic samples every epoch.
"""
from __future__ import annotations

from typing import Any

from ltr.train_settings.bbreg_recipe import BBRegRecipe, run_bbreg
from ltr.train_settings.datasets import synthetic_and_local, synthetic_validation
from ltr.train_settings.options import TrainingOptions

RECIPE = BBRegRecipe(
    objective="ebm",
    train_datasets=synthetic_and_local,
    val_datasets=synthetic_validation,
    backbone_pretrained=False,
    backbone_lr=1e-3,  # the backbone starts from random weights: learn it as fast as the head
    max_gap=200,
    batch_size=64,
    epochs=50,
    samples_per_epoch=500 * 64,
    val_samples=8 * 64,
    val_interval=1,
)


def run(settings: TrainingOptions) -> list[dict[str, Any]]:
    """Train; returns the per-epoch log rows."""
    return run_bbreg(settings, RECIPE)
