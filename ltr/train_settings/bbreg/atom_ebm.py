"""ATOM-EBM as in the paper: IoU-Net trained with the EBM negative log-likelihood (facts section c, atom_prob_ml).

128 GMM proposals per test frame with sigmas (0.05, 0.05) and (0.5, 0.5) plus the ground truth, max_gap 200,
batch 64, 50 epochs of 1000 iterations, Adam 1e-3, StepLR 15 epochs x0.2, ImageNet-initialised frozen
ResNet-18 (``--train-backbone`` fine-tunes it at 1e-4). Data: LaSOT + GOT-10k + TrackingNet + COCO (see
``ltr.train_settings.datasets.paper_training`` for the differences to the reference); validation on GOT-10k
val every 5 epochs. Needs ``--lasot-root``, ``--got10k-root``, ``--trackingnet-root``, ``--coco-root`` (or the env variables).
"""
from __future__ import annotations

from typing import Any

from ltr.train_settings.bbreg_recipe import BBRegRecipe, run_bbreg
from ltr.train_settings.datasets import paper_training, paper_validation
from ltr.train_settings.options import TrainingOptions

RECIPE = BBRegRecipe(
    objective="ebm",
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
