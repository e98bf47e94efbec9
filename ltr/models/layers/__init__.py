"""Layers: Precise RoI pooling and IoU-Net building blocks."""
from ltr.models.layers.prroi_pool import prroi_pool2d, prroi_pool2d_batched

__all__ = ["prroi_pool2d", "prroi_pool2d_batched"]
