"""ATOM-EBM: the EBM-trained IoU-Net refined by Algorithm S1 (accept/shrink gradient ascent).

Boxes are refined in the relative space (cx/w0, cy/h0, log w, log h) normalised by the first initial box (the
classifier estimate), as the reference EBM tracker (atom_prob_ml) does, with its step lengths
(centre 2e-4, size 1e-3) and 10 iterations; S1 halves the step of a box whose score did not increase.
"""
from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """The default ATOM-EBM parameters."""
    return AtomEbmParams()
