"""Inference-time IoU-Net scoring for box refinement: scores of many proposal batches on one frame, with their
gradient w.r.t. the boxes written out in closed form.

Box refinement evaluates the IoU-Net and its box gradient several times per frame on the same features. Autograd
would record a graph of about a hundred small operations per evaluation; here one evaluation is a forward and a
backward pass of a few large operations (the pooling's closed-form gradient, ``ltr.models.layers.prroi_pool``, and
the fully connected layers' transposed products). All boxes are float ``(x, y, w, h)`` in crop-image pixels.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch.nn import functional as F

from ltr.models.bbreg.atom_iou_net import (
    POOL3_SCALE,
    POOL3_SIZE,
    POOL4_SCALE,
    POOL4_SIZE,
    AtomIoUNet,
)
from ltr.models.layers.blocks import LinearBlock
from ltr.models.layers.prroi_pool import (
    LevelBins,
    level_bins,
    pool_levels,
    pool_levels_box_grad,
    pooling_layout,
)

__all__ = ["IoUPredictor", "PreparedFrame", "score_proposals"]


class IoUPredictor:
    """Inference-time :meth:`AtomIoUNet.predict_iou` for many proposal batches on the same frame (box refinement).

    Built once per reference (tracker initialisation): folds each ``LinearBlock``'s eval-mode BatchNorm into its
    linear layer (weights reordered to the pooling's native bin order) and keeps the modulation vectors.
    :meth:`prepare` multiplies a frame's test features by the modulation and lays them out for pooling once;
    :meth:`score` (:func:`score_proposals`) then runs without validation or host synchronisation. Gradients flow to the proposals only
    (the network's weights and features are constants here). Same scores as ``predict_iou`` up to float error.

    Args:
        head: an ``AtomIoUNet`` in eval mode.
        modulation: output of :meth:`AtomIoUNet.get_modulation` (two [B, 256, 1, 1] tensors).
        fc_dtype: dtype of the two large fully connected layers' weights and products (their inputs are cast to it,
            their outputs back to float32): ``torch.bfloat16`` reads half the bytes (on the CPU these small-batch
            products are bound by reading the 13 MB of float32 weights), None keeps the network's dtype.
    """

    def __init__(self, head: AtomIoUNet, modulation: list[torch.Tensor], fc_dtype: torch.dtype | None = None):
        if head.training:
            raise ValueError("IoUPredictor folds BatchNorm statistics: call head.eval() first")
        if len(modulation) != 2 or any(m[0].numel() != c for m, c in zip(modulation, head.pred_input_dim)):
            raise ValueError(f"modulation must be two tensors of batch x {head.pred_input_dim} values")
        self.head = head
        with torch.no_grad():
            self.modulation = [m.detach().reshape(m.shape[0], -1, 1, 1) for m in modulation]
            self.fc3, self.fc4 = (tuple(t.to(fc_dtype) if fc_dtype is not None else t
                                        for t in _fold_linear_block(block, channels, size))
                                  for block, channels, size in ((head.fc3_rt, head.pred_input_dim[0], POOL3_SIZE),
                                                                (head.fc4_rt, head.pred_input_dim[1], POOL4_SIZE)))
        self.predictor_weight = head.iou_predictor.weight.detach()
        self.predictor_bias = head.iou_predictor.bias.detach()

    def prepare(self, iou_feats: list[torch.Tensor]) -> PreparedFrame:
        """One frame's modulated test features in pooling layout, with the folded weights (everything
        :func:`score_proposals` reads); ``iou_feats`` from :meth:`AtomIoUNet.get_iou_feat`."""
        feat3, feat4 = self.head._check_feats(iou_feats, self.head.pred_input_dim, "iou_feats")
        if feat3.shape[0] != self.modulation[0].shape[0]:
            raise ValueError(f"iou_feats batch {feat3.shape[0]} differs from the modulation batch {self.modulation[0].shape[0]}")
        with torch.no_grad():
            layout3, layout4 = (pooling_layout(feat.detach() * mod) for feat, mod in zip((feat3, feat4), self.modulation))
            bins = level_bins([(POOL3_SIZE[0], POOL3_SCALE), (POOL4_SIZE[0], POOL4_SCALE)],
                              max(*feat3.shape[-2:], *feat4.shape[-2:]), layout3)
        return PreparedFrame(layout3, feat3.shape[-1], layout4, feat4.shape[-1], bins, *self.fc3, *self.fc4,
                             self.predictor_weight, self.predictor_bias)

    def score(self, prepared: PreparedFrame, proposals: torch.Tensor) -> torch.Tensor:
        """Scores [B, P] of finite ``proposals`` [B, P, 4] (xywh crop px) on a :meth:`prepare`-d frame."""
        return score_proposals(proposals, prepared)


class PreparedFrame(NamedTuple):
    """Inputs of :func:`score_proposals`: modulated test features in pooling layout ([B, H, C * W] and W, per
    branch), the pooling's constants, and the BatchNorm-folded weights of the fully connected layers and the
    predictor's weight [1, 512] and bias [1] (see :class:`IoUPredictor`)."""

    layout3: torch.Tensor
    width3: int
    layout4: torch.Tensor
    width4: int
    bins: LevelBins
    fc3_weight: torch.Tensor
    fc3_bias: torch.Tensor
    fc4_weight: torch.Tensor
    fc4_bias: torch.Tensor
    predictor_weight: torch.Tensor
    predictor_bias: torch.Tensor


def score_proposals(proposals: torch.Tensor, frame: PreparedFrame) -> torch.Tensor:
    """IoU-Net scores [B, P] of ``proposals`` [B, P, 4] (xywh crop px, finite) on a prepared frame.

    A pure function of tensors, without validation or host synchronisation, differentiable w.r.t. the proposals only
    (closed-form backward pass, :class:`_ProposalScores`): the box refinement calls it many times per frame, and
    ``torch.compile`` can trace it whole.
    """
    return _ProposalScores.apply(proposals, *frame)


class _ProposalScores(torch.autograd.Function):
    """``score_proposals`` with the gradient w.r.t. the proposals written out: through the predictor and the ReLUs
    (a mask), the fully connected layers (their transposed weights) and the pooling
    (``ltr.models.layers.prroi_pool.pool_levels_box_grad``)."""

    @staticmethod
    def forward(ctx, proposals: torch.Tensor, *fields) -> torch.Tensor:
        frame = PreparedFrame(*fields)
        batch, num = proposals.shape[:2]
        levels = [(frame.layout3, frame.width3, POOL3_SIZE[0], POOL3_SCALE),
                  (frame.layout4, frame.width4, POOL4_SIZE[0], POOL4_SCALE)]
        (roi3, roi4), tape = pool_levels(levels, proposals.to(frame.layout3.dtype), frame.bins)
        hidden3 = torch.relu(_linear(roi3.reshape(batch * num, -1), frame.fc3_weight, frame.fc3_bias))
        hidden4 = torch.relu(_linear(roi4.reshape(batch * num, -1), frame.fc4_weight, frame.fc4_bias))
        scores = F.linear(torch.cat((hidden3, hidden4), dim=1), frame.predictor_weight, frame.predictor_bias)
        ctx.frame, ctx.tape, ctx.pooled_shapes, ctx.input_dtype = frame, tape, (roi3.shape, roi4.shape), proposals.dtype
        ctx.save_for_backward(hidden3, hidden4)
        return scores.reshape(batch, num)

    @staticmethod
    def backward(ctx, grad_scores: torch.Tensor):
        frame, (shape3, shape4) = ctx.frame, ctx.pooled_shapes
        hidden3, hidden4 = ctx.saved_tensors
        grad_hidden = grad_scores.reshape(-1, 1) * frame.predictor_weight  # [B * P, 2 * 256]
        grad_hidden3, grad_hidden4 = grad_hidden.split((hidden3.shape[1], hidden4.shape[1]), dim=1)
        grad_roi3 = ((grad_hidden3 * (hidden3 > 0)).to(frame.fc3_weight.dtype) @ frame.fc3_weight).to(hidden3.dtype)
        grad_roi4 = ((grad_hidden4 * (hidden4 > 0)).to(frame.fc4_weight.dtype) @ frame.fc4_weight).to(hidden4.dtype)
        grad_proposals = pool_levels_box_grad(ctx.tape, [grad_roi3.view(shape3), grad_roi4.view(shape4)])
        return (grad_proposals.to(ctx.input_dtype), *([None] * len(PreparedFrame._fields)))


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``F.linear`` in the weight's dtype, the result in ``x``'s."""
    return F.linear(x.to(weight.dtype), weight, bias).to(x.dtype)


def _fold_linear_block(block: LinearBlock, channels: int, output_size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode ``bn(linear(x))`` as one (weight, bias), weight columns in the pooled (x bin, y bin, channel) order."""
    bn = block.bn
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    weight = block.linear.weight * scale[:, None]
    bias = (block.linear.bias - bn.running_mean) * scale + bn.bias
    oh, ow = output_size
    weight = weight.reshape(-1, channels, oh, ow).permute(0, 3, 2, 1).reshape(weight.shape[0], -1).contiguous()
    return weight, bias


