"""ATOMnet: ResNet feature extractor + AtomIoUNet box regressor, and its registered builders."""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Sequence

import torch
from torch import nn

from ltr.models.backbone.resnet import ResNetBackbone, resnet18, resnet50
from ltr.models.bbreg.atom_iou_net import AtomIoUNet
from ltr.models.input_spec import REFERENCE_INPUT_SPEC, InputSpec
from ltr.models.registry import register_model

__all__ = ["ATOMnet", "atom_resnet18", "atom_resnet50"]


class ATOMnet(nn.Module):
    """Backbone (``feature_extractor``) and IoU-Net (``bb_regressor``); state-dict keys as pytracking.

    Args:
        feature_extractor: backbone returning an OrderedDict of layers.
        bb_regressor: the IoU-Net head.
        iou_layers: backbone layers fed to the IoU-Net (stride 8, stride 16).
        extractor_grad: if False, the backbone parameters get ``requires_grad=False``.

    ``input_spec`` (an ``InputSpec``) is the crops the IoU-Net expects; the training recipe sets it, checkpoints
    carry it, and ``ltr.admin.loading.load_network`` restores it (the reference values where a file lacks it).
    """

    def __init__(
        self,
        feature_extractor: ResNetBackbone,
        bb_regressor: AtomIoUNet,
        iou_layers: Sequence[str] = ("layer2", "layer3"),
        extractor_grad: bool = False,
    ):
        super().__init__()
        self.feature_extractor = feature_extractor
        self.bb_regressor = bb_regressor
        self.iou_layers = tuple(iou_layers)
        self.input_spec: InputSpec = REFERENCE_INPUT_SPEC
        if not extractor_grad:
            for parameter in self.feature_extractor.parameters():
                parameter.requires_grad_(False)

    def forward(
        self,
        train_images: torch.Tensor | list[torch.Tensor],
        test_images: torch.Tensor | list[torch.Tensor],
        train_boxes: torch.Tensor,
        test_proposals: torch.Tensor,
    ) -> torch.Tensor:
        """Scores of test proposals, modulated by the train (reference) frame.

        Args:
            train_images: [B, 3, 288, 288] ImageNet-normalised reference crops, or their backbone features
                (a list with one map per ``iou_layers`` entry, e.g. from a feature cache).
            test_images: [B, 3, 288, 288] test crops, or their backbone features.
            train_boxes: [B, 4] target boxes in the reference crops, xywh crop px.
            test_proposals: [B, P, 4] proposals in the test crops, xywh crop px.

        Returns:
            [B, P] scores.
        """
        ref_feats, test_feats = (self._iou_inputs(images, name) for images, name in ((train_images, "train"), (test_images, "test")))
        return self.bb_regressor(ref_feats, test_feats, train_boxes, test_proposals)

    def _iou_inputs(self, images: torch.Tensor | list[torch.Tensor], name: str) -> list[torch.Tensor]:
        if isinstance(images, (list, tuple)):
            if len(images) != len(self.iou_layers):
                raise ValueError(f"{name} features must be {len(self.iou_layers)} maps ({self.iou_layers}), got {len(images)}")
            return list(images)
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"{name}_images must be [B, 3, H, W], got {tuple(images.shape)}")
        features = self.extract_backbone_features(images)
        return [features[layer] for layer in self.iou_layers]

    def extract_backbone_features(self, images: torch.Tensor, layers: Sequence[str] | None = None) -> "OrderedDict[str, torch.Tensor]":
        """[B, 3, H, W] normalised images -> OrderedDict layer name -> feature map (default: ``iou_layers``)."""
        return self.feature_extractor(images, tuple(layers) if layers is not None else self.iou_layers)


def _atom(backbone: ResNetBackbone, input_dim: tuple[int, int], iou_input_dim: tuple[int, int], iou_inter_dim: tuple[int, int]) -> ATOMnet:
    head = AtomIoUNet(input_dim=input_dim, pred_input_dim=tuple(iou_input_dim), pred_inter_dim=tuple(iou_inter_dim))
    return ATOMnet(backbone, head, iou_layers=("layer2", "layer3"), extractor_grad=False)


@register_model()
def atom_resnet18(
    *, backbone_pretrained: bool = False, backbone_weights: str | os.PathLike | None = None,
    iou_input_dim: Sequence[int] = (256, 256), iou_inter_dim: Sequence[int] = (256, 256)
) -> ATOMnet:
    """ATOM with a ResNet-18 backbone ending at layer3.

    ``backbone_pretrained`` loads torchvision's ImageNet weights (download); ``backbone_weights`` loads them from a
    local state-dict file instead (torchvision's ResNet-18 state dict; conv1 .. layer3 suffice).
    """
    backbone = resnet18(output_layers=("layer2", "layer3"), pretrained=backbone_pretrained, weights=backbone_weights)
    return _atom(backbone, (128, 256), tuple(iou_input_dim), tuple(iou_inter_dim))


@register_model()
def atom_resnet50(
    *, backbone_pretrained: bool = False, backbone_weights: str | os.PathLike | None = None,
    iou_input_dim: Sequence[int] = (256, 256), iou_inter_dim: Sequence[int] = (256, 256)
) -> ATOMnet:
    """ATOM with a ResNet-50 backbone (layer2: 512 ch, layer3: 1024 ch); weights as in :func:`atom_resnet18`."""
    backbone = resnet50(output_layers=("layer2", "layer3"), pretrained=backbone_pretrained, weights=backbone_weights)
    return _atom(backbone, (512, 1024), tuple(iou_input_dim), tuple(iou_inter_dim))
