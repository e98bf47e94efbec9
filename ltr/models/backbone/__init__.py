"""Backbones returning intermediate feature maps."""
from ltr.models.backbone.resnet import ResNetBackbone, resnet18, resnet50

__all__ = ["ResNetBackbone", "resnet18", "resnet50"]
