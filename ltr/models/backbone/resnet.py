"""torchvision ResNet returning the requested intermediate layers (layer2: stride 8, layer3: stride 16).

Module and state-dict names are torchvision's (``conv1``, ``bn1``, ``layer1`` … ``layer4``, ``fc``), so
pytracking checkpoints (``feature_extractor.*``) and torchvision ImageNet weights load unchanged.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from torchvision.models import ResNet18_Weights, ResNet50_Weights
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

__all__ = ["ResNetBackbone", "resnet18", "resnet50", "LAYER_NAMES"]

#: layers in execution order; "conv1" is the stem output after ReLU (stride 2), "fc" the classifier logits
LAYER_NAMES = ("conv1", "layer1", "layer2", "layer3", "layer4", "fc")


class ResNetBackbone(ResNet):
    """ResNet whose forward returns an ``OrderedDict`` of the requested layers and stops after the last one.

    Args:
        block: torchvision ``BasicBlock`` or ``Bottleneck``.
        layers: blocks per stage, e.g. ``[2, 2, 2, 2]``.
        output_layers: names from ``LAYER_NAMES`` to return.
    """

    def __init__(self, block: type, layers: list[int], output_layers: Sequence[str] = ("layer2", "layer3")):
        super().__init__(block, layers)
        self.output_layers = _check_layers(output_layers)

    def forward(self, x: torch.Tensor, output_layers: Sequence[str] | None = None) -> "OrderedDict[str, torch.Tensor]":  # type: ignore[override]
        """[B, 3, H, W] ImageNet-normalised RGB -> OrderedDict layer name -> [B, C, H/s, W/s] (execution order)."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected images of shape [B, 3, H, W], got {tuple(x.shape)}")
        wanted = self.output_layers if output_layers is None else _check_layers(output_layers)
        outputs: OrderedDict[str, torch.Tensor] = OrderedDict()
        x = self.relu(self.bn1(self.conv1(x)))
        if self._collect("conv1", x, wanted, outputs):
            return outputs
        x = self.maxpool(x)
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(self, name)(x)
            if self._collect(name, x, wanted, outputs):
                return outputs
        x = self.fc(torch.flatten(self.avgpool(x), 1))
        self._collect("fc", x, wanted, outputs)
        return outputs

    @staticmethod
    def _collect(name: str, x: torch.Tensor, wanted: tuple[str, ...], outputs: OrderedDict) -> bool:
        """Store ``x`` if requested; True once every requested layer is collected."""
        if name in wanted:
            outputs[name] = x
        return len(outputs) == len(wanted)


def _check_layers(output_layers: Sequence[str]) -> tuple[str, ...]:
    layers = tuple(output_layers)
    unknown = [name for name in layers if name not in LAYER_NAMES]
    if not layers or unknown or len(set(layers)) != len(layers):
        raise ValueError(f"output_layers must be distinct names from {LAYER_NAMES}, got {layers}")
    return layers


def resnet18(*, output_layers: Sequence[str] = ("layer2", "layer3"), pretrained: bool = False) -> ResNetBackbone:
    """ResNet-18 (layer2: 128 ch, layer3: 256 ch); ``pretrained`` loads torchvision IMAGENET1K_V1 weights."""
    model = ResNetBackbone(BasicBlock, [2, 2, 2, 2], output_layers=output_layers)
    if pretrained:
        model.load_state_dict(ResNet18_Weights.IMAGENET1K_V1.get_state_dict(progress=True))
    return model


def resnet50(*, output_layers: Sequence[str] = ("layer2", "layer3"), pretrained: bool = False) -> ResNetBackbone:
    """ResNet-50 (layer2: 512 ch, layer3: 1024 ch); ``pretrained`` loads torchvision IMAGENET1K_V1 weights."""
    model = ResNetBackbone(Bottleneck, [3, 4, 6, 3], output_layers=output_layers)
    if pretrained:
        model.load_state_dict(ResNet50_Weights.IMAGENET1K_V1.get_state_dict(progress=True))
    return model
