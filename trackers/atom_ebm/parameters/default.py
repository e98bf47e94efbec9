"""ATOM-EBM: the EBM-trained IoU-Net refined by Algorithm S1 (accept/shrink gradient ascent), after a self-check.

Boxes are refined in the relative space (cx/w, cy/h, log w, log h), each box normalised by its *own* size (as the
EBM paper's detection code), with step lengths 2e-3 (centre) and 1e-2 (log size), 10 iterations, and S1 halving
the step of a box whose score did not rise. Chosen by measurement (``benchmarks/sweep_parameters.py``, the bundled
model's training run at epoch 5, training sequence Crossing, one run): "own" gave AUC 76.0-77.8 for all four step pairs in
{2e-4, 2e-3} x {1e-3, 1e-2}, while normalising by the first box (the reference tracker's choice) gave 26.1-79.9,
failing on three of the four; the fixed-step ATOM ascent gave 12.9 and no refinement 26.4.

Refinement stays on for a sequence only if it improves 32 perturbed copies of the first-frame box by more than
two standard errors (``trackers.atom_ebm.refinement_check``). With search area 5 this kept it on for the bundled
model's training sequences (10/10 runs) and off for the held-out ones (15/15; ``benchmarks/self_check.py``). On the
held-out sequences the check scored AUC 42.6 against 11.0 refining every frame (3 runs each, the earlier
"mean rises" rule; docs/RESULTS.md): it switches refinement off where the IoU-Net does not transfer.
``always_refine`` is this set without the check.
"""
from dataclasses import replace

from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """The default ATOM-EBM parameters."""
    return replace(AtomEbmParams(), refinement_check_boxes=32)
