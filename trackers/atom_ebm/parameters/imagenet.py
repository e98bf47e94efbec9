"""``default`` with ATOM's classifier, for networks on an ImageNet-trained backbone.

The defaults' classifier (layer3 plus HOG + colour features, a 6 x 6 filter, search area 3, sample-memory learning
rate 0.03) was chosen for the bundled model's random, frozen backbone (docs/RESULTS.md). Official pytracking ATOM checkpoints and models trained with
the ``bbreg/atom_ebm`` settings (ImageNet-initialised ResNet-18) have the features ATOM's classifier was designed for:
layer3 projected to 64 channels, a 4 x 4 filter, search area 5, learning rate 0.01. One crop then serves classifier
and IoU-Net.
"""
from dataclasses import replace

from trackers.atom_ebm.parameters import default
from trackers.atom_ebm.params import AtomEbmParams


def parameters() -> AtomEbmParams:
    """Default parameters with the reference classifier settings."""
    return replace(default.parameters(), classifier_features="layer3", filter_size=4, search_area_scale=5.0,
                   learning_rate=0.01)
