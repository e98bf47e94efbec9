"""``default`` with ATOM's classifier settings, for networks on an ImageNet-trained backbone.

The defaults' search area (3) and sample-memory learning rate (0.03) were chosen for the bundled model's random,
frozen backbone (docs/RESULTS.md). Official pytracking ATOM checkpoints and models trained with the ``bbreg/atom_ebm``
settings (ImageNet-initialised ResNet-18) have the features ATOM's values were designed for: search area 5,
learning rate 0.01.
"""
from dataclasses import replace

from trackers.atom_ebm.parameters import default
from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """Default parameters with the reference classifier settings."""
    return replace(default.parameters(), search_area_scale=5.0, learning_rate=0.01)
