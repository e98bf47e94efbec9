"""CPU real-time variant of ``default``: HOG + colour classifier, fewer boxes, 2 S1 iterations, fewer CG iterations.

The classifier scores HOG + colour alone (12 channels, 6 x 6 filter): default's layer3 block comes from a crop of
its own search area (3) and would cost a second backbone pass next to the IoU-Net's crop (5). On the selection
sequences HOG + colour alone scored AUC 60.1 against 65.5 for default's combination (classifier only, 3 runs;
docs/RESULTS.md). Further: 5 boxes (estimate + 4 random), 2 ascent iterations with doubled step lengths, 3 CG
iterations every 15th frame, and a lighter first-frame optimisation (4 x 8 Gauss-Newton/CG). Chosen for the CPU
budget of 1.6 backbone forwards per frame (``benchmarks/bench_tracker.py``). On four held-out synthetic sequences 2
iterations scored AUC 67.7 against 66.0 with 4 (one run each, with the earlier layer3 classifier and before the
self-check was added; docs/RESULTS.md).
"""
from dataclasses import replace

from trackers.atom_ebm.parameters import default
from trackers.atom_ebm.params import HOG_COLOR, AtomEbmParams


def parameters() -> AtomEbmParams:
    """Faster, less accurate settings (with ``default``'s first-frame self-check)."""
    return replace(default.parameters(), classifier_features=HOG_COLOR, compressed_dim=12, num_init_random_boxes=4,
                   num_iter=2, step_length_center=4e-3, step_length_size=2e-2, update_cg_iter=3, train_skipping=15,
                   hard_negative_cg_iter=3, init_gn_iter=4, init_cg_iter=8)
