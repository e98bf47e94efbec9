"""torchvision ResNet returning the requested intermediate layers (layer2: stride 8, layer3: stride 16).

Module and state-dict names are torchvision's (``conv1``, ``bn1``, ``layer1`` … ``layer4``, ``fc``), so
pytracking checkpoints (``feature_extractor.*``) and torchvision ImageNet weights load unchanged. Stages after
the deepest requested layer are not built: an ATOM backbone (layer2 + layer3) has no ``layer4``/``fc``.

ImageNet weights come from torchvision's download (``pretrained=True``) or from a local state-dict file
(``weights=PATH``: torchvision's state dict, or one holding conv1 .. layer3 only).
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Sequence

import torch
from torchvision.models import ResNet18_Weights, ResNet50_Weights
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

__all__ = ["ResNetBackbone", "resnet18", "resnet50", "LAYER_NAMES", "load_backbone_weights", "state_dict_sha256",
           "tensors_sha256"]

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
        deepest = max(LAYER_NAMES.index(name) for name in self.output_layers)
        for name in LAYER_NAMES[deepest + 1:]:
            delattr(self, name)
        if deepest < LAYER_NAMES.index("fc"):
            del self.avgpool

    def forward(self, x: torch.Tensor, output_layers: Sequence[str] | None = None) -> "OrderedDict[str, torch.Tensor]":  # type: ignore[override]
        """[B, 3, H, W] ImageNet-normalised RGB -> OrderedDict layer name -> [B, C, H/s, W/s] (execution order)."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected images of shape [B, 3, H, W], got {tuple(x.shape)}")
        wanted = self.output_layers if output_layers is None else _check_layers(output_layers)
        missing = [name for name in wanted if not self.has_layer(name)]
        if missing:
            raise ValueError(f"layers {missing} are not built in this backbone (built up to {self.output_layers})")
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

    def has_layer(self, name: str) -> bool:
        """Whether stage ``name`` exists (stages after the deepest output layer are not built)."""
        return name == "conv1" or hasattr(self, name)

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


def resnet18(
    *, output_layers: Sequence[str] = ("layer2", "layer3"), pretrained: bool = False, weights: str | os.PathLike | None = None
) -> ResNetBackbone:
    """ResNet-18 (layer2: 128 ch, layer3: 256 ch).

    Args:
        output_layers: layers to return; later stages are not built.
        pretrained: load torchvision's IMAGENET1K_V1 weights (downloaded once into torchvision's cache).
        weights: a local state-dict file in torchvision key names instead (must cover every built stage).
    """
    model = ResNetBackbone(BasicBlock, [2, 2, 2, 2], output_layers=output_layers)
    _initialise(model, ResNet18_Weights.IMAGENET1K_V1, pretrained, weights)
    return model


def resnet50(
    *, output_layers: Sequence[str] = ("layer2", "layer3"), pretrained: bool = False, weights: str | os.PathLike | None = None
) -> ResNetBackbone:
    """ResNet-50 (layer2: 512 ch, layer3: 1024 ch); ``pretrained`` / ``weights`` as in :func:`resnet18`."""
    model = ResNetBackbone(Bottleneck, [3, 4, 6, 3], output_layers=output_layers)
    _initialise(model, ResNet50_Weights.IMAGENET1K_V1, pretrained, weights)
    return model


def _initialise(model: ResNetBackbone, download: ResNet18_Weights | ResNet50_Weights, pretrained: bool,
                weights: str | os.PathLike | None) -> None:
    if pretrained and weights is not None:
        raise ValueError("pass either pretrained=True (torchvision download) or weights=PATH, not both")
    if pretrained:
        load_backbone_weights(model, download.get_state_dict(progress=True), source=f"torchvision {download}")
    elif weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"backbone weights not found: {path}")
        try:
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises several types for corrupt or non-tensor files
            raise ValueError(f"{path}: not a state-dict file of tensors ({type(error).__name__}: {error})") from None
        load_backbone_weights(model, state_dict, source=str(path))


def load_backbone_weights(model: ResNetBackbone, state_dict: dict, source: str) -> None:
    """Load the entries of ``state_dict`` (torchvision key names) that belong to ``model``'s built stages.

    Keys of stages the model does not build (``layer4.*``, ``fc.*`` for an ATOM backbone) are ignored; every
    key of the model must be present with its shape (``num_batches_tracked`` counters may be missing).

    Raises:
        ValueError: a missing key, a shape mismatch or a non-tensor entry (the message names ``source``).
    """
    if not isinstance(state_dict, dict):
        raise ValueError(f"{source}: expected a dict of tensors, got {type(state_dict).__name__}")
    own = model.state_dict()
    missing = sorted(key for key in own if key not in state_dict and not key.endswith("num_batches_tracked"))
    wrong = sorted(key for key in own if key in state_dict
                   and (not isinstance(state_dict[key], torch.Tensor) or state_dict[key].shape != own[key].shape))
    if missing or wrong:
        raise ValueError(f"{source}: backbone weights do not fit: missing {missing[:5]}, wrong shape or type {wrong[:5]}")
    model.load_state_dict({key: state_dict[key] for key in own if key in state_dict}, strict=False)


def state_dict_sha256(module: torch.nn.Module) -> str:
    """sha256 over the module's state-dict keys and tensor bytes: identifies backbone weights however they were loaded."""
    return tensors_sha256(module.state_dict())


def tensors_sha256(tensors: Mapping[str, torch.Tensor]) -> str:
    """sha256 over the keys and tensor bytes of ``tensors``, in their order."""
    digest = hashlib.sha256()
    for key, tensor in tensors.items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
