"""Reference ATOM baseline: unconditional box-size-scaled gradient steps in (x, y, w, h).

5 iterations with step length 1 (the step in pixels is step_length * gradient * box size), no
accept/reject test, as ATOM's ``default`` parameters. Use it with an IoU-regression (ATOM/ATOM*) network.
Frames where the box reaches past the image border are classifier-only, as in every parameter set
(``refine_at_border``), so that comparisons isolate the network and the ascent.
The IoU features are computed on the full maps (``iou_window_margin=None``): these unconditional steps move boxes
out of a small feature window, and a window that is left costs a second, full-map pass.
"""
from dataclasses import replace

from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """ATOM-style fixed-step refinement."""
    return replace(AtomEbmParams(), refinement="fixed_step", num_iter=5, step_length_center=1.0, step_length_size=1.0,
                   step_decay=1.0, iou_window_margin=None)
