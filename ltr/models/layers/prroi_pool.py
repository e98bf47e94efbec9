"""Precise RoI Pooling (PrRoIPool) in pure PyTorch, differentiable w.r.t. features and boxes.

The feature map is treated as a continuous function: feature cell ``(i, j)`` sits at the integer
coordinate ``(y=i, x=j)``, values in between are bilinearly interpolated and the map is zero outside, so
the interpolant falls linearly to zero within one cell beyond the border. Every output bin is the exact
integral of that function over the bin's area divided by the area (an empty bin gives 0).

The interpolant is ``f(x, y) = sum_ij F[i, j] hat(y - i) hat(x - j)`` with ``hat(t) = max(0, 1 - |t|)``,
so the integral over ``[a, b] x [c, d]`` separates into per-axis weights
``w_x[j] = int_a^b hat(x - j) dx`` and the bin value is ``sum_ij w_y[i] F[i, j] w_x[j] / area``: two batched
matrix products. The weights are written in a closed form (length times the value of the linear piece
at the midpoint) that is exact, numerically stable for tiny bins and differentiable, so autograd gives
the exact feature and box gradients without a hand-written backward pass.

Entry points: for training (autograd), :func:`prroi_pool2d_batched` (P boxes per image, what the IoU-Net pools)
and its general form :func:`prroi_pool2d` (boxes routed to images by index); for inference, box refinement pools the
same constant maps many times through :func:`pool_levels` and its closed-form box gradient
:func:`pool_levels_box_grad` (a few large operations instead of autograd's graph of small ones).

Box convention: ``(x1, y1, x2, y2)`` in input-image pixels (:func:`pool_levels`: ``(x, y, w, h)``), multiplied by
``spatial_scale`` to reach feature coordinates; ``(0, 0, 4, 4)`` at scale 1 covers four cells. A box with ``x2 < x1``
(or ``y2 < y1``) is clamped to zero size, exactly like the reference, so all its bins are 0.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch
from torch.nn import functional as F

__all__ = ["LevelBins", "LevelsTape", "level_bins", "pool_levels", "pool_levels_box_grad", "pooling_layout", "prroi_pool2d",
           "prroi_pool2d_batched"]


def _clip_piece(t: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Clip ``t`` to ``[low, high]`` passing the gradient on ``[low, high)`` only.

    Half-open gradient support makes a bin edge that lies exactly on an integer coordinate count in one
    linear piece of the hat function, never in two (``torch.clamp`` would pass it to both).
    """
    return torch.where(t < low, low, torch.where(t >= high, high, t))


def _bin_weights(lo: torch.Tensor, hi: torch.Tensor, grid: torch.Tensor, clip: Callable = _clip_piece) -> torch.Tensor:
    """Averaging weights of the bins ``[lo, hi]`` (feature coordinates, any shape [...]) over the grid points ``grid``
    [G] (0, 1, ...).

    Returns [..., G] weights ``(1 / (hi - lo)) int_lo^hi hat(t - i) dt``; empty bins (hi <= lo) get 0. ``clip`` cuts
    the integration limits to a linear piece of ``hat``: :func:`_clip_piece` for autograd, ``torch.clamp`` (same values,
    one operation) where the gradient is written out (:func:`pool_levels_box_grad`).
    """
    lo_rel = lo.unsqueeze(-1) - grid  # [..., G]; coordinate relative to each grid point
    hi_rel = hi.unsqueeze(-1) - grid
    # Rising piece t in [-1, 0): hat = 1 + t; falling piece t in [0, 1]: hat = 1 - t.
    a_rise, b_rise = clip(lo_rel, -1.0, 0.0), clip(hi_rel, -1.0, 0.0)
    a_fall, b_fall = clip(lo_rel, 0.0, 1.0), clip(hi_rel, 0.0, 1.0)
    integral = (b_rise - a_rise) * (1.0 + 0.5 * (a_rise + b_rise)) + (b_fall - a_fall) * (1.0 - 0.5 * (a_fall + b_fall))
    bin_length = (hi - lo).unsqueeze(-1)  # the same floats as the integration limits, so weights of a bin sum to ~1
    nonempty = bin_length > 0
    safe_length = torch.where(nonempty, bin_length, torch.ones_like(bin_length))
    return torch.where(nonempty, integral / safe_length, torch.zeros_like(integral))


def _bin_edges(start: torch.Tensor, end: torch.Tensor, bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(lo, hi) [..., bins] of ``bins`` equal bins of ``[start, end]`` (end clamped to ``>= start``)."""
    length = torch.clamp(end - start, min=0.0)
    fraction = torch.arange(bins + 1, dtype=start.dtype, device=start.device) / bins
    edges = start.unsqueeze(-1) + length.unsqueeze(-1) * fraction  # [..., bins + 1]
    return edges[..., :-1], edges[..., 1:]


def _axis_weights(start: torch.Tensor, end: torch.Tensor, bins: int, size: int) -> torch.Tensor:
    """Averaging weights of ``bins`` equal bins of ``[start, end]`` over ``size`` grid points.

    Args:
        start: [...] bin-range start in feature coordinates.
        end: [...] bin-range end (clamped to ``>= start``).
        bins: number of bins along this axis.
        size: number of feature cells along this axis.

    Returns:
        [..., bins, size] weights ``(1 / len) int_bin hat(t - i) dt``; rows of empty bins are 0.
    """
    return _bin_weights(*_bin_edges(start, end, bins), torch.arange(size, dtype=start.dtype, device=start.device))


def _output_hw(output_size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    if len(output_size) != 2 or not all(isinstance(s, int) and s > 0 for s in output_size):
        raise ValueError(f"output_size must be a positive int or (oh, ow) pair of positive ints, got {output_size!r}")
    return int(output_size[0]), int(output_size[1])


def _check_features(features: torch.Tensor) -> None:
    if not isinstance(features, torch.Tensor) or features.dim() != 4:
        raise ValueError(f"features must be a [B, C, H, W] tensor, got shape {tuple(getattr(features, 'shape', ()))}")
    if not features.is_floating_point():
        raise ValueError(f"features must be a floating-point tensor, got {features.dtype}")


def _check_scale(spatial_scale: float) -> None:
    if not (isinstance(spatial_scale, (int, float)) and spatial_scale > 0 and spatial_scale < float("inf")):
        raise ValueError(f"spatial_scale must be a positive finite number, got {spatial_scale!r}")


def _axis_weights_xy(
    boxes: torch.Tensor, oh: int, ow: int, height: int, width: int, spatial_scale: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-axis weights for [..., 4] ``(x1, y1, x2, y2)`` image-pixel boxes: ([..., oh, H], [..., ow, W]).

    With as many bins along y as along x both axes are computed in one pass on a grid of max(H, W) points
    (the weights of each grid point do not depend on the others) and cut to size.
    """
    scaled = boxes * spatial_scale
    if oh == ow:
        start = torch.stack((scaled[..., 1], scaled[..., 0]))
        end = torch.stack((scaled[..., 3], scaled[..., 2]))
        weights = _axis_weights(start, end, oh, max(height, width))
        return weights[0, ..., :height], weights[1, ..., :width]
    wy = _axis_weights(scaled[..., 1], scaled[..., 3], oh, height)
    wx = _axis_weights(scaled[..., 0], scaled[..., 2], ow, width)
    return wy, wx


def prroi_pool2d(
    features: torch.Tensor,
    rois: torch.Tensor,
    output_size: int | tuple[int, int],
    spatial_scale: float,
) -> torch.Tensor:
    """Precise RoI pooling of arbitrary boxes.

    Boxes are routed to their image by a one-hot matmul, so the cost grows with B; for a fixed number of
    boxes per image (IoU-Net proposals) :func:`prroi_pool2d_batched` is cheaper. Validating the rois
    synchronises with the device once per call.

    Args:
        features: [B, C, H, W] float feature maps.
        rois: [K, 5] rows ``(batch_idx, x1, y1, x2, y2)`` in input-image pixels, on the features' device
            (cast to their dtype); negative-size boxes are clamped to zero size and pool to 0.
        output_size: bins per box, ``int`` or ``(oh, ow)``.
        spatial_scale: feature cells per image pixel (1/8 for a stride-8 map).

    Returns:
        [K, C, oh, ow] bin averages of the bilinearly interpolated (zero-padded) feature map.

    Raises:
        ValueError: on wrong shapes, non-finite rois, or a batch index that is not an integer in [0, B).
    """
    _check_features(features)
    oh, ow = _output_hw(output_size)
    _check_scale(spatial_scale)
    if not isinstance(rois, torch.Tensor) or rois.dim() != 2 or rois.shape[1] != 5:
        raise ValueError(f"rois must be a [K, 5] tensor (batch_idx, x1, y1, x2, y2), got shape {tuple(getattr(rois, 'shape', ()))}")
    if rois.device != features.device:
        raise ValueError(f"rois are on {rois.device} but features on {features.device}")
    batch, channels, height, width = features.shape
    rois = rois.to(features.dtype)
    if rois.shape[0] and not bool(torch.isfinite(rois).all()):
        raise ValueError("rois contain non-finite values")
    batch_idx = rois[:, 0].detach()
    if rois.shape[0] and not bool(((batch_idx >= 0) & (batch_idx < batch) & (batch_idx == batch_idx.round())).all()):
        raise ValueError(f"roi batch indices must be integers in [0, {batch}), got {batch_idx.unique().tolist()}")
    num = rois.shape[0]
    wy, wx = _axis_weights_xy(rois[:, 1:], oh, ow, height, width, spatial_scale)  # [K,oh,H], [K,ow,W]
    # Route each box to its image with a one-hot over the batch: one matmul, no gather of whole maps.
    one_hot = (batch_idx.long().unsqueeze(1) == torch.arange(batch, device=features.device)).to(features.dtype)
    wy_batched = (one_hot[:, None, :, None] * wy[:, :, None, :]).reshape(num * oh, batch * height)
    rows = wy_batched @ features.permute(0, 2, 1, 3).reshape(batch * height, channels * width)
    # Contract x as [ow, W] @ [W, oh * C] per box: a wide output keeps the small batched matmuls efficient.
    out = torch.bmm(wx, rows.view(num, oh * channels, width).transpose(1, 2))  # [K, ow, oh * C]
    return out.view(num, ow, oh, channels).permute(0, 3, 2, 1).contiguous()


def prroi_pool2d_batched(
    features: torch.Tensor,
    boxes: torch.Tensor,
    output_size: int | tuple[int, int],
    spatial_scale: float,
) -> torch.Tensor:
    """Precise RoI pooling of ``P`` boxes per image (the layout of IoU-Net proposals).

    Same maths as :func:`prroi_pool2d` but box ``p`` of image ``b`` pools from ``features[b]``, which
    avoids the batch routing; only shapes are validated (no host synchronisation). The intermediate
    holds B * P * oh * C * W values (fp32: about 1.5 GB for 64 x 129 proposals, 5x5 bins on 36x36x256).

    Args:
        features: [B, C, H, W] float feature maps.
        boxes: [B, P, 4] ``(x1, y1, x2, y2)`` in input-image pixels.
        output_size: bins per box, ``int`` or ``(oh, ow)``.
        spatial_scale: feature cells per image pixel.

    Returns:
        [B, P, C, oh, ow] bin averages.
    """
    _check_features(features)
    oh, ow = _output_hw(output_size)
    _check_scale(spatial_scale)
    batch, channels, height, width = features.shape
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 3 or boxes.shape[0] != batch or boxes.shape[2] != 4:
        raise ValueError(f"boxes must be a [{batch}, P, 4] tensor (x1, y1, x2, y2), got shape {tuple(getattr(boxes, 'shape', ()))}")
    out = _pool_laid_out(pooling_layout(features), width, boxes.to(features.dtype), (oh, ow), spatial_scale)
    return out.permute(0, 1, 4, 3, 2).contiguous()


def pooling_layout(features: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, H, C * W], the layout ``_pool_laid_out`` reads (prepare once, pool many times)."""
    batch, channels, height, width = features.shape
    return features.permute(0, 2, 1, 3).reshape(batch, height, channels * width)


def _pool_laid_out(
    layout: torch.Tensor, width: int, boxes: torch.Tensor, output_size: tuple[int, int], spatial_scale: float
) -> torch.Tensor:
    """Core of :func:`prroi_pool2d_batched` on pre-laid-out features, without validation or output permute.

    For repeated pooling from the same maps (box refinement): the caller validates once and keeps the
    layout. No host synchronisation.

    Args:
        layout: [B, H, C * W] features from :func:`pooling_layout`.
        width: W of the feature map.
        boxes: [B, P, 4] ``(x1, y1, x2, y2)`` in input-image pixels, same dtype as ``layout``.
        output_size: (oh, ow) bins.
        spatial_scale: feature cells per image pixel.

    Returns:
        [B, P, ow, oh, C] bin averages (note the order: x bins, y bins, channels).
    """
    oh, ow = output_size
    wy, wx = _axis_weights_xy(boxes, oh, ow, layout.shape[1], width, spatial_scale)  # [B,P,oh,H], [B,P,ow,W]
    return _pool_with_weights(layout, width, wy, wx)


def _pool_with_weights(layout: torch.Tensor, width: int, wy: torch.Tensor, wx: torch.Tensor) -> torch.Tensor:
    """Bin averages [B, P, ow, oh, C] of a [B, H, C * W] layout from the axis weights wy [B, P, oh, H], wx [B, P, ow, W]:
    rows first (one matmul per image), then columns (one small matmul per box)."""
    return _pool_columns(_pool_rows(layout, width, wy), wx, wy.shape[2])


def _pool_rows(layout: torch.Tensor, width: int, wy: torch.Tensor) -> torch.Tensor:
    """The layout pooled along y: [B * P, oh * C, W] from a [B, H, C * W] layout and wy [B, P, oh, H]."""
    batch, num, oh, height = wy.shape
    rows = torch.bmm(wy.reshape(batch, num * oh, height), layout)
    return rows.view(batch * num, -1, width)


def _pool_columns(rows: torch.Tensor, wx: torch.Tensor, oh: int) -> torch.Tensor:
    """Bin averages [B, P, ow, oh, C] from :func:`_pool_rows`' output and wx [B, P, ow, W]."""
    batch, num, ow, width = wx.shape
    out = torch.bmm(wx.reshape(batch * num, ow, width), rows.transpose(1, 2))  # [B * P, ow, oh * C]
    return out.view(batch, num, ow, oh, -1)


def _pool_weight_grads(layout: torch.Tensor, width: int, rows: torch.Tensor, wx: torch.Tensor, grad: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of a scalar w.r.t. wy [B, P, oh, H] and wx [B, P, ow, W] from its gradient ``grad`` [B, P, ow, oh, C]
    w.r.t. :func:`_pool_columns`' output (``rows`` from :func:`_pool_rows`; the layout is constant)."""
    batch, num, ow, oh, channels = grad.shape
    grad = grad.reshape(batch * num, ow, oh * channels)
    grad_wx = torch.bmm(grad, rows)  # [B * P, ow, W]
    grad_rows = torch.bmm(grad.transpose(1, 2), wx.reshape(batch * num, ow, width))  # [B * P, oh * C, W]
    grad_wy = torch.bmm(grad_rows.view(batch, num * oh, channels * width), layout.transpose(1, 2))  # [B, P * oh, H]
    return grad_wy.view(batch, num, oh, -1), grad_wx.view(batch, num, ow, width)


class LevelBins(NamedTuple):
    """Constants of :func:`pool_levels` for a set of levels, made once by :func:`level_bins`: for every bin of every
    level in order [K], the level's scale and where the bin starts and ends as fractions of the box side; and the grid
    points [G] (0 .. the largest map side - 1)."""

    scale: torch.Tensor
    f_lo: torch.Tensor
    f_hi: torch.Tensor
    grid: torch.Tensor


def level_bins(bins_and_scales: list[tuple[int, float]], grid_size: int, like: torch.Tensor) -> LevelBins:
    """:class:`LevelBins` of levels with ``(bins, spatial_scale)`` each and maps of at most ``grid_size`` cells a side,
    with the dtype and device of ``like`` (made with device kernels: no host-to-device copy)."""
    scales, starts, ends = [], [], []
    for bins, scale in bins_and_scales:
        fraction = torch.arange(bins + 1, dtype=like.dtype, device=like.device) / bins
        scales.append(torch.full((bins,), float(scale), dtype=like.dtype, device=like.device))
        starts.append(fraction[:-1])
        ends.append(fraction[1:])
    grid = torch.arange(grid_size, dtype=like.dtype, device=like.device)
    return LevelBins(torch.cat(scales), torch.cat(starts), torch.cat(ends), grid)


class LevelsTape(NamedTuple):
    """What :func:`pool_levels_box_grad` needs from a :func:`pool_levels` call.

    Per axis (0 = x, 1 = y) and bin k of all levels together (K bins), the bin is ``[lo, hi]`` in feature coordinates,
    ``lo = s * (start + f_lo * side)``, ``hi = s * (start + f_hi * side)`` with the box's start and side
    (``max(w, 0)`` or ``max(h, 0)``), the level's scale s and the bin's fractions f_lo = k / bins, f_hi = (k + 1) / bins;
    ``weights`` are its averaging weights on the grid points, ``rows`` each level's layout pooled along y
    (:func:`_pool_rows`).
    """

    levels: tuple[tuple[torch.Tensor, int, int, float], ...]
    bins: LevelBins
    lo: torch.Tensor  # [2, B, P, K]
    hi: torch.Tensor
    weights: torch.Tensor  # [2, B, P, K, G]
    side: torch.Tensor  # [2, B, P]
    rows: tuple[torch.Tensor, ...]


def pool_levels(levels: list[tuple[torch.Tensor, int, int, float]], boxes: torch.Tensor, bins: LevelBins
                ) -> tuple[list[torch.Tensor], LevelsTape]:
    """``_pool_laid_out`` of the same boxes on several feature levels (square bins per level), without autograd,
    and the tape from which :func:`pool_levels_box_grad` computes the box gradient in closed form.

    The bin weights of every level and both axes are computed in one pass (on a grid of the largest map side; the
    weights of a grid point do not depend on the others). For box refinement, where the feature maps are constants and
    a written-out gradient replaces autograd's graph of small operations. No validation, no host synchronisation.

    Args:
        levels: per level ``(layout [B, H, C * W], W, bins, spatial_scale)`` (``bins`` x ``bins`` output).
        boxes: [B, P, 4] ``(x, y, w, h)`` in input-image pixels (a negative side pools to 0), same dtype as the layouts.
        bins: :func:`level_bins` of these levels, with a grid of at least their largest map side.

    Returns:
        (per level [B, P, bins, bins, C] bin averages (x bins, y bins, channels) as ``_pool_laid_out``, tape).
    """
    levels = tuple(levels)
    start = boxes[..., :2].movedim(-1, 0).unsqueeze(-1)  # [2 (x, y), B, P, 1]
    side = torch.clamp(boxes[..., 2:].movedim(-1, 0), min=0.0)  # [2, B, P]
    origin, extent = start * bins.scale, side.unsqueeze(-1) * bins.scale  # [2, B, P, K]
    lo, hi = origin + extent * bins.f_lo, origin + extent * bins.f_hi
    weights = _bin_weights(lo, hi, bins.grid, torch.clamp)  # [2, B, P, K, G]
    outputs, all_rows = [], []
    for (layout, width, count, _), level in zip(levels, weights.split([count for _, _, count, _ in levels], -2)):
        rows = _pool_rows(layout, width, level[1, ..., :layout.shape[1]])
        outputs.append(_pool_columns(rows, level[0, ..., :width], count))
        all_rows.append(rows)
    return outputs, LevelsTape(levels, bins, lo, hi, weights, side, tuple(all_rows))


def pool_levels_box_grad(tape: LevelsTape, grad_outputs: list[torch.Tensor]) -> torch.Tensor:
    """Gradient [B, P, 4] w.r.t. the ``(x, y, w, h)`` boxes of a scalar whose gradients w.r.t. :func:`pool_levels`'
    outputs are ``grad_outputs`` (the feature maps are constants).

    With the notation of :class:`LevelsTape` and ``I = int_lo^hi hat(t - g) dt``, ``w = I / (hi - lo)``:
    dI/dhi = hat(hi - g) and dI/dlo = -hat(lo - g), so ``dw/dhi = (hat(hi - g) - w) / (hi - lo)`` and
    ``dw/dlo = (w - hat(lo - g)) / (hi - lo)`` (0 for an empty bin); the chain rule through ``lo``, ``hi`` and the
    clamped side gives the box gradient.
    """
    grid_size = tape.weights.shape[-1]
    grad_levels = []
    for (layout, width, _, _), rows, grad, level in zip(tape.levels, tape.rows, grad_outputs,
                                                       tape.weights.split([lv[2] for lv in tape.levels], -2)):
        grad_wy, grad_wx = _pool_weight_grads(layout, width, rows, level[0, ..., :width], grad)
        grad_levels.append(torch.stack((F.pad(grad_wx, (0, grid_size - width)),
                                        F.pad(grad_wy, (0, grid_size - grad_wy.shape[-1])))))
    grad_weights = torch.cat(grad_levels, dim=-2)  # [2, B, P, K, G]
    hat_lo = torch.clamp(1.0 - (tape.lo.unsqueeze(-1) - tape.bins.grid).abs(), min=0.0)
    hat_hi = torch.clamp(1.0 - (tape.hi.unsqueeze(-1) - tape.bins.grid).abs(), min=0.0)
    bin_length = tape.hi - tape.lo  # >= 0
    inverse_length = (bin_length > 0) / torch.clamp(bin_length, min=torch.finfo(bin_length.dtype).tiny)
    grad_lo = (grad_weights * (tape.weights - hat_lo)).sum(-1) * inverse_length  # [2, B, P, K]
    grad_hi = (grad_weights * (hat_hi - tape.weights)).sum(-1) * inverse_length
    grad_start = ((grad_lo + grad_hi) * tape.bins.scale).sum(-1)  # [2, B, P]
    grad_side = ((grad_lo * tape.bins.f_lo + grad_hi * tape.bins.f_hi) * tape.bins.scale).sum(-1) * (tape.side > 0)
    return torch.cat((grad_start, grad_side)).movedim(0, -1)
