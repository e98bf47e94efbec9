"""``default`` without the first-frame self-check: Algorithm S1 refinement on every frame, as the EBM paper's tracker.

Use it to compare IoU-Nets under the same refinement (``experiments/study_refinement.py``) or with a network known to
transfer to the video at hand.
"""
from dataclasses import replace

from trackers.atom_ebm.parameters import default
from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """Default parameters, refinement always on."""
    return replace(default.parameters(), refinement_check_boxes=0)
