"""ATOM's IoU-Net head (``AtomIoUNet``): modulation from the reference frame, score per test proposal.

Layer names, shapes and initialisation follow pytracking so its checkpoints load with ``strict=True``.
All boxes are float ``(x, y, w, h)`` in crop-image pixels (288x288 crops in ATOM).
"""
from __future__ import annotations

import torch
from torch import nn

from ltr.data.box_ops import xywh_to_xyxy
from ltr.models.layers.blocks import LinearBlock, conv_block
from ltr.models.layers.prroi_pool import prroi_pool2d_batched

__all__ = ["AtomIoUNet"]

#: test-branch pooling: 5 x 5 bins on the stride-8 (layer2) branch, 3 x 3 on the stride-16 (layer3) branch
POOL3_SIZE, POOL3_SCALE = (5, 5), 1 / 8
POOL4_SIZE, POOL4_SCALE = (3, 3), 1 / 16
#: reference-branch pooling: 3 x 3 bins on layer2, 1 x 1 on layer3
POOL3R_SIZE, POOL4R_SIZE = (3, 3), (1, 1)


class AtomIoUNet(nn.Module):
    """IoU-Net on two backbone layers (stride 8 and 16).

    Args:
        input_dim: channels of the two input layers, (128, 256) for ResNet-18 layer2/layer3.
        pred_input_dim: channels of the test-branch features and modulation vectors.
        pred_inter_dim: widths of the per-branch fully connected layers before the predictor.
    """

    def __init__(
        self,
        input_dim: tuple[int, int] = (128, 256),
        pred_input_dim: tuple[int, int] = (256, 256),
        pred_inter_dim: tuple[int, int] = (256, 256),
    ):
        super().__init__()
        self.input_dim = tuple(input_dim)
        self.pred_input_dim = tuple(pred_input_dim)
        # Reference (modulation) branch.
        self.conv3_1r = conv_block(input_dim[0], 128, kernel_size=3, stride=1)
        self.conv3_1t = conv_block(input_dim[0], 256, kernel_size=3, stride=1)
        self.conv3_2t = conv_block(256, pred_input_dim[0], kernel_size=3, stride=1)
        self.fc3_1r = conv_block(128, 256, kernel_size=3, stride=1, padding=0)
        self.conv4_1r = conv_block(input_dim[1], 256, kernel_size=3, stride=1)
        self.conv4_1t = conv_block(input_dim[1], 256, kernel_size=3, stride=1)
        self.conv4_2t = conv_block(256, pred_input_dim[1], kernel_size=3, stride=1)
        self.fc34_3r = conv_block(256 + 256, pred_input_dim[0], kernel_size=1, stride=1, padding=0)
        self.fc34_4r = conv_block(256 + 256, pred_input_dim[1], kernel_size=1, stride=1, padding=0)
        self.fc3_rt = LinearBlock(pred_input_dim[0], pred_inter_dim[0], 5)
        self.fc4_rt = LinearBlock(pred_input_dim[1], pred_inter_dim[1], 3)
        self.iou_predictor = nn.Linear(pred_inter_dim[0] + pred_inter_dim[1], 1, bias=True)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-normal (fan_in) conv/linear weights, zero biases, BN weights ~U(0, 1) and zero BN biases."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, mode="fan_in")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(
        self, ref_feats: list[torch.Tensor], test_feats: list[torch.Tensor], ref_boxes: torch.Tensor, proposals: torch.Tensor
    ) -> torch.Tensor:
        """Scores of ``proposals`` [B, P, 4] in the test crops, given reference boxes [B, 4]; -> [B, P]."""
        modulation = self.get_modulation(ref_feats, ref_boxes)
        return self.predict_iou(modulation, self.get_iou_feat(test_feats), proposals)

    def get_modulation(self, ref_feats: list[torch.Tensor], ref_boxes: torch.Tensor) -> list[torch.Tensor]:
        """Modulation vectors from the reference frame.

        Args:
            ref_feats: [layer2 [B, C2, H2, W2], layer3 [B, C3, H3, W3]] backbone features of the reference crops.
            ref_boxes: [B, 4] target boxes, xywh crop px.

        Returns:
            Two [B, 256, 1, 1] non-negative tensors (layer2 branch, layer3 branch).
        """
        feat2, feat3 = self._check_feats(ref_feats, self.input_dim, "ref_feats")
        batch = feat2.shape[0]
        if not isinstance(ref_boxes, torch.Tensor) or ref_boxes.shape != (batch, 4):
            raise ValueError(f"ref_boxes must be a [{batch}, 4] xywh tensor, got shape {tuple(getattr(ref_boxes, 'shape', ()))}")
        _check_boxes_finite(ref_boxes, "ref_boxes")
        boxes = xywh_to_xyxy(ref_boxes.to(feat2.dtype)).unsqueeze(1)  # [B, 1, 4]
        c3_r = self.conv3_1r(feat2)
        roi3r = prroi_pool2d_batched(c3_r, boxes, POOL3R_SIZE, POOL3_SCALE)
        fc3_r = self.fc3_1r(roi3r.flatten(0, 1))
        c4_r = self.conv4_1r(feat3)
        roi4r = prroi_pool2d_batched(c4_r, boxes, POOL4R_SIZE, POOL4_SCALE)
        fc34_r = torch.cat((fc3_r, roi4r.flatten(0, 1)), dim=1)
        return [self.fc34_3r(fc34_r), self.fc34_4r(fc34_r)]

    def get_iou_feat(self, test_feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """Test-branch features: [layer2, layer3] -> [[B, 256, H2, W2], [B, 256, H3, W3]] (compute once per frame)."""
        feat2, feat3 = self._check_feats(test_feats, self.input_dim, "test_feats")
        return [self.conv3_2t(self.conv3_1t(feat2)), self.conv4_2t(self.conv4_1t(feat3))]

    def predict_iou(self, modulation: list[torch.Tensor], iou_feats: list[torch.Tensor], proposals: torch.Tensor) -> torch.Tensor:
        """Score every proposal; differentiable w.r.t. ``proposals``.

        Args:
            modulation: output of :meth:`get_modulation`, two [B, 256, 1, 1] (or [B, 256]) tensors.
            iou_feats: output of :meth:`get_iou_feat`.
            proposals: [B, P, 4] boxes, xywh crop px (finite; negative sizes pool to 0 as in the reference).

        Returns:
            [B, P] scores.
        """
        feat3, feat4 = self._check_feats(iou_feats, self.pred_input_dim, "iou_feats")
        batch = feat3.shape[0]
        if len(modulation) != 2 or any(m.shape[0] != batch or m[0].numel() != c for m, c in zip(modulation, self.pred_input_dim)):
            raise ValueError(f"modulation must be two tensors of {batch} x {self.pred_input_dim} values")
        if not isinstance(proposals, torch.Tensor) or proposals.dim() != 3 or proposals.shape[0] != batch or proposals.shape[2] != 4:
            raise ValueError(f"proposals must be a [{batch}, P, 4] xywh tensor, got shape {tuple(getattr(proposals, 'shape', ()))}")
        _check_boxes_finite(proposals, "proposals")
        return self.score_pooled(self.pool_proposals(modulation, [feat3, feat4], proposals))

    def pool_proposals(self, modulation: list[torch.Tensor], iou_feats: list[torch.Tensor],
                       proposals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The modulated test features pooled in ``proposals`` [B, P, 4] (xywh crop px, unchecked):
        ([B, P, 256, 5, 5], [B, P, 256, 3, 3]), the input of :meth:`score_pooled`."""
        feat3, feat4 = iou_feats
        batch = feat3.shape[0]
        boxes = xywh_to_xyxy(proposals.to(feat3.dtype))
        feat3 = feat3 * modulation[0].reshape(batch, -1, 1, 1)
        feat4 = feat4 * modulation[1].reshape(batch, -1, 1, 1)
        return (prroi_pool2d_batched(feat3, boxes, POOL3_SIZE, POOL3_SCALE),
                prroi_pool2d_batched(feat4, boxes, POOL4_SIZE, POOL4_SCALE))

    def score_pooled(self, pooled: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Scores [B, P] of pooled proposal features (:meth:`pool_proposals`): the fully connected layers."""
        roi3t, roi4t = pooled
        batch, num = roi3t.shape[:2]
        fc3_rt = self.fc3_rt(roi3t.flatten(0, 1))
        fc4_rt = self.fc4_rt(roi4t.flatten(0, 1))
        return self.iou_predictor(torch.cat((fc3_rt, fc4_rt), dim=1)).reshape(batch, num)

    @staticmethod
    def _check_feats(feats: list[torch.Tensor], channels: tuple[int, int], name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if len(feats) != 2 or any(not isinstance(f, torch.Tensor) or f.dim() != 4 for f in feats):
            raise ValueError(f"{name} must be a list of two [B, C, H, W] tensors")
        if feats[0].shape[0] != feats[1].shape[0] or (feats[0].shape[1], feats[1].shape[1]) != tuple(channels):
            shapes = [tuple(f.shape) for f in feats]
            raise ValueError(f"{name} must have a common batch size and {channels} channels, got shapes {shapes}")
        return feats[0], feats[1]


def _check_boxes_finite(boxes: torch.Tensor, name: str) -> None:
    """Raise on NaN/inf boxes (a host sync; skipped while a CUDA graph is being captured)."""
    if boxes.is_cuda and torch.cuda.is_current_stream_capturing():
        return
    if not bool(torch.isfinite(boxes).all()):
        raise ValueError(f"{name} contain non-finite values")
