"""CPU real-time variant of ``default``: fewer boxes, 2 S1 iterations, fewer CG iterations.

5 boxes (estimate + 4 random), 2 ascent iterations with doubled step lengths, 3 CG iterations every 15th frame,
and a lighter first-frame optimisation (4 x 8 Gauss-Newton/CG). Chosen for the CPU budget of 1.6 backbone
forwards per frame (``benchmarks/bench_tracker.py``): the fixed costs (backbone, windowed IoU features, classifier)
take about 1.3 of it and one ascent iteration about 0.12. On four held-out synthetic sequences 2 iterations scored
AUC 67.7 against 66.0 with 4 (one run each, before the self-check was added; docs/RESULTS.md).
"""
from dataclasses import replace

from trackers.atom_ebm.parameters import default
from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """Faster, slightly less accurate settings (with ``default``'s first-frame self-check)."""
    return replace(default.parameters(), num_init_random_boxes=4, num_iter=2, step_length_center=4e-3,
                   step_length_size=2e-2, update_cg_iter=3, train_skipping=15, hard_negative_cg_iter=3,
                   init_gn_iter=4, init_cg_iter=8)
