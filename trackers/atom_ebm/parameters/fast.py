"""CPU real-time variant of ``default``: fewer boxes, fewer S1 iterations, fewer CG iterations.

5 boxes (estimate + 4 random), 4 ascent iterations with doubled step lengths, 3 CG iterations every
15th frame, and a lighter first-frame optimisation (4 x 8 Gauss-Newton/CG).
"""
from dataclasses import replace

from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """Faster, slightly less accurate settings."""
    return replace(AtomEbmParams(), num_init_random_boxes=4, num_iter=4, step_length_center=4e-3,
                   step_length_size=2e-2, update_cg_iter=3, train_skipping=15, hard_negative_cg_iter=3,
                   init_gn_iter=4, init_cg_iter=8)
