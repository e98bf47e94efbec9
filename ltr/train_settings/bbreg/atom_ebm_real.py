"""ATOM-EBM on the local real data, sized for a CPU: ImageNet ResNet-18 (frozen) + IoU-Net trained with the EBM NLL.

Data (``ltr.train_settings.datasets.real_training``): the 48 real training sequences and the 929 COCO still boxes of
``<local data root>/train``; validation on pairs of Crossing and wakeboard7, which are never trained on. The
held-out evaluation sequences (Couple, Football1, person9) are used by neither.

The backbone's layer2/layer3 features of 3,000 processed pairs (jittered as in the paper recipe, mirrored with
probability 0.5, brightness and grayscale jitter) are cached once; each epoch draws 128 fresh GMM proposals per
pair (sigmas (0.05, 0.05) and (0.5, 0.5), as the paper). Frames of the local sequences are 2-6 source frames apart,
so ``max_gap`` 50 spans the paper's 200-frame gap. Adam 1e-3 for 3 epochs with validation after each: with 3,000 cached
pairs the validation loss is lowest after the first epoch and rises after it (the IoU-Net starts to fit the cached
pairs), so keep the checkpoint with the lowest validation loss (``training_log.csv``); the bundled model is that one.
``atom_iou_real`` is the IoU-MSE twin: same data, cache, budget and backbone.
"""
from __future__ import annotations

from typing import Any

from ltr.train_settings.bbreg_recipe import BBRegRecipe, run_bbreg
from ltr.train_settings.datasets import real_training, real_validation
from ltr.train_settings.options import TrainingOptions

RECIPE = BBRegRecipe(
    objective="ebm",
    train_datasets=real_training,
    val_datasets=real_validation,
    backbone_pretrained=True,
    num_proposals=128,
    proposal_sigmas=((0.05, 0.05), (0.5, 0.5)),
    max_gap=50,
    batch_size=16,
    epochs=3,
    samples_per_epoch=3000,
    feature_cache_pairs=3000,
    val_feature_cache_pairs=256,
    val_interval=1,
    workers=1,
    lr=1e-3,
    flip_prob=0.5,
)


def run(settings: TrainingOptions) -> list[dict[str, Any]]:
    """Train; returns the per-epoch log rows."""
    return run_bbreg(settings, RECIPE)
