"""ATOM-EBM on the local real data, sized for a CPU: ImageNet ResNet-18 (frozen) + IoU-Net trained with the EBM NLL.

Data (``ltr.train_settings.datasets.real_training``): every real training video of ``<local data root>/train`` except
the selection set (OTB, UAV123@10fps, UAVDT, DTB70, VOT, LaSOT and DAVIS 2016 clips) plus OTB Crossing, and the
1,352 still-image boxes (COCO, VOC, indoor scenes, aircraft); validation on pairs of the selection set's drone,
sports, OTB and DAVIS sequences (``real_validation``). The held-out evaluation sequences (Couple, Football1, person9)
are used by neither.

The backbone's layer2/layer3 features of 6,000 processed pairs (jittered as in the paper recipe, mirrored with
probability 0.5, brightness and grayscale jitter) are cached once; each epoch covers 3,000 of them, the next epoch
the next 3,000, with 128 fresh GMM proposals per pair (sigmas (0.05, 0.05) and (0.5, 0.5), as the paper). Frames of
the local sequences are 2-6 source frames apart, so ``max_gap`` 50 spans the paper's 200-frame gap. Adam 1e-3 for 4
epochs with validation after each; keep the checkpoint with the lowest validation loss (``training_log.csv``): the
IoU-Net starts to fit the cached pairs once it has seen each of them. ``atom_iou_real`` is the IoU-MSE twin: same
data, cache, budget and backbone.
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
    epochs=4,
    samples_per_epoch=3000,
    feature_cache_pairs=6000,
    val_feature_cache_pairs=384,
    val_interval=1,
    workers=1,
    lr=1e-3,
    flip_prob=0.5,
)


def run(settings: TrainingOptions) -> list[dict[str, Any]]:
    """Train; returns the per-epoch log rows."""
    return run_bbreg(settings, RECIPE)
