"""``atom_ebm_synthetic`` without the local real sequences: procedural training data only.

An ablation for the default model (experiments/NOTEBOOK.md): does leaving out the two real training sequences, which the
IoU-Net can memorise, change how its refinement transfers to held-out real video?
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ltr.train_settings.bbreg.atom_ebm_synthetic import RECIPE as SYNTHETIC_AND_LOCAL
from ltr.train_settings.bbreg_recipe import run_bbreg
from ltr.train_settings.datasets import DatasetList, synthetic_training
from ltr.train_settings.options import TrainingOptions


def synthetic_only(options: TrainingOptions) -> DatasetList:
    """The 1000 procedural training sequences, weight 1."""
    return [(synthetic_training(options), 1.0)]


RECIPE = replace(SYNTHETIC_AND_LOCAL, train_datasets=synthetic_only)


def run(settings: TrainingOptions) -> list[dict[str, Any]]:
    """Train; returns the per-epoch log rows."""
    return run_bbreg(settings, RECIPE)
