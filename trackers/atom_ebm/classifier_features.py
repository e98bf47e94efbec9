"""The online classifier's feature maps of sample crops: backbone layers and/or hand-crafted HOG + colour."""
from __future__ import annotations

import numpy as np
import torch

from ltr.data.normalization import ImageNormalizer
from trackers.atom_ebm.backbone_engine import BackboneEngine
from trackers.atom_ebm.classifier import combine_feature_blocks
from trackers.atom_ebm.handcrafted_features import hog_color_features
from trackers.atom_ebm.params import HOG_COLOR, AtomEbmParams


class ClassifierFeatures:
    """uint8 RGB crops (N, S, S, 3) or (S, S, 3) -> normalised classifier maps [N, C, S / stride, S / stride] of the
    blocks named by ``params.classifier_features`` (``combine_feature_blocks``); one backbone pass for all layers,
    none for HOG + colour alone."""

    def __init__(self, backbone: BackboneEngine, params: AtomEbmParams, normalize: ImageNormalizer):
        self.backbone = backbone
        self.parts = params.classifier_parts
        self.stride = params.feature_stride
        self.layers = [name for name in self.parts if name != HOG_COLOR]
        self.normalize = normalize

    def __call__(self, crops: np.ndarray) -> torch.Tensor:
        images = self.normalize(crops)
        maps = dict(self.backbone(images, self.layers)) if self.layers else {}
        blocks = [hog_color_features(images, self.stride) if name == HOG_COLOR else maps[name] for name in self.parts]
        return combine_feature_blocks(blocks)
