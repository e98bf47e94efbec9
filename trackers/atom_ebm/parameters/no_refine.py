"""Ablation without IoU-Net refinement: classifier position, previous box size, no IoU-Net evaluation.

The reported confidence is the classifier's peak score instead of an IoU-Net score.
"""
from dataclasses import replace

from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """Classifier-only tracking."""
    return replace(AtomEbmParams(), refinement="none", num_init_random_boxes=0)
