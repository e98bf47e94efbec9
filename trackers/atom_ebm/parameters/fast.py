"""CPU real-time variant of ``default``: a HOG + colour classifier (no backbone pass of its own), a 160 px IoU-Net
window, 5 boxes, 2 S1 iterations and lighter classifier updates.

Each frame then costs one backbone pass over 160 x 160 pixels, the IoU-Net on it and the classifier on hand-crafted
features. The IoU-Net's features are computed on the whole (small) crop: a feature window around the boxes
(``iou_window_margin``) saves little there and its bookkeeping and second passes cost more (measured in
experiments/NOTEBOOK.md); it also keeps the shapes fixed, as ``compile_refinement`` needs. The settings were chosen for the
CPU budget of one ResNet-18 forward per frame (``benchmarks/bench_video.py``): the classifier's per-frame updates are
lighter than ``default``'s (3 CG iterations every 15th frame and on a hard negative, instead of 5 every 10th), while
its first-frame training and S1's step lengths are ``default``'s (a lighter first frame lost targets, longer steps
blew up sizes). It keeps the network as trained: with ``default``'s first-frame fit of the IoU-Net
(``iou_adaptation_steps``) its boxes got looser and drone video lost (experiments/NOTEBOOK.md). The accuracy cost is
the classifier's: it loses small and fast targets that ``default``'s layer3 + HOG/colour classifier keeps.
"""
from dataclasses import replace

from trackers.atom_ebm.parameters import default
from trackers.atom_ebm.params import HOG_COLOR, AtomEbmParams


def parameters() -> AtomEbmParams:
    """Faster, less accurate settings (with ``default``'s first-frame self-check)."""
    return replace(default.parameters(), classifier_features=HOG_COLOR, compressed_dim=12, iou_crop_size=160,
                   iou_window_margin=None, num_init_random_boxes=4, num_iter=2, update_cg_iter=3, train_skipping=15,
                   hard_negative_cg_iter=3, iou_adaptation_steps=0)
