"""ATOM-EBM: the EBM-trained IoU-Net refined by Algorithm S1 (accept/shrink gradient ascent), after a self-check.

Boxes are refined in the relative space (cx/w, cy/h, log w, log h), each box normalised by its *own* size (as the
EBM paper's detection code), with step lengths 2e-3 (centre) and 1e-2 (log size) and S1 halving the step of a box
whose score did not rise. 5 iterations instead of the paper's 10 halve the refinement's cost for a small loss in
refinement quality (experiments/NOTEBOOK.md, "Speed").

Refinement stays on for a sequence only if it improves 32 perturbed copies of the first-frame box by more than two
standard errors (``trackers.atom_ebm.refinement_check``): a guard for networks that do not transfer to the video at
hand. ``always_refine`` is this set without the check.

The target's size moves 0.7 of the way (in log space) to each refined size (``size_update_rate``; the reference takes
the refined size whole): that averages out part of the refined sizes' frame-to-frame noise.

Where refinement stays on, the IoU-Net's fully connected layers are first fitted to the target: 30 Adam steps of the
EBM NLL on 8 jittered crops of the first frame (``iou_adaptation_steps``, ``trackers.atom_ebm.iou_adaptation``;
about 2 s on one CPU thread). The network refines the objects it trained on far better than others; on video it
never saw, the fit raised the mean IoU of one refinement and the tracking AUC (experiments/NOTEBOOK.md).
"""
from dataclasses import replace

from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """The default ATOM-EBM parameters."""
    return replace(AtomEbmParams(), num_iter=5, refinement_check_boxes=32, size_update_rate=0.7,
                   iou_adaptation_steps=30)
