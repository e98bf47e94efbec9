"""PrRoIPool against an independent exact quadrature of a separately written bilinear interpolant."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ltr.models.layers.prroi_pool import (
    level_bins,
    pool_levels,
    pool_levels_box_grad,
    pooling_layout,
    prroi_pool2d,
    prroi_pool2d_batched,
)

GAUSS_NODES = np.array([-1.0, 1.0]) / math.sqrt(3.0)  # 2-point Gauss-Legendre: exact for cubics


def bilinear(feature: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Zero-padded bilinear interpolation of feature [C, H, W] at points (x, y) -> [C, ...]."""
    channels, height, width = feature.shape
    padded = np.zeros((channels, height + 4, width + 4))
    padded[:, 2:-2, 2:-2] = feature
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    xi, yi = x0.astype(int) + 2, y0.astype(int) + 2
    xi, yi = np.clip(xi, 0, width + 2), np.clip(yi, 0, height + 2)  # far outside: zeros either way
    return (
        padded[:, yi, xi] * (1 - fx) * (1 - fy)
        + padded[:, yi, xi + 1] * fx * (1 - fy)
        + padded[:, yi + 1, xi] * (1 - fx) * fy
        + padded[:, yi + 1, xi + 1] * fx * fy
    )


def quadrature_points(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights integrating a piecewise polynomial (breaks at integers, degree <= 3) over [lo, hi] exactly."""
    breaks = [lo] + [float(k) for k in range(math.floor(lo) + 1, math.ceil(hi))] + [hi]
    nodes, weights = [], []
    for a, b in zip(breaks[:-1], breaks[1:]):
        nodes.extend((a + b) / 2 + (b - a) / 2 * GAUSS_NODES)
        weights.extend([(b - a) / 2] * 2)
    return np.array(nodes), np.array(weights)


def reference_pool(feature: np.ndarray, box: tuple[float, float, float, float], out_h: int, out_w: int) -> np.ndarray:
    """[C, out_h, out_w] bin averages for one box (x1, y1, x2, y2) in feature coordinates."""
    x1, y1, x2, y2 = box
    bin_w, bin_h = max(x2 - x1, 0.0) / out_w, max(y2 - y1, 0.0) / out_h
    result = np.zeros((feature.shape[0], out_h, out_w))
    for ph in range(out_h):
        for pw in range(out_w):
            if bin_w <= 0 or bin_h <= 0:
                continue
            xs, wxs = quadrature_points(x1 + pw * bin_w, x1 + (pw + 1) * bin_w)
            ys, wys = quadrature_points(y1 + ph * bin_h, y1 + (ph + 1) * bin_h)
            grid_x, grid_y = np.meshgrid(xs, ys)
            values = bilinear(feature, grid_x, grid_y)
            result[:, ph, pw] = (values * np.outer(wys, wxs)).sum(axis=(1, 2)) / (bin_w * bin_h)
    return result


def reference_line_integral_x(feature: np.ndarray, x: float, y_lo: float, y_hi: float) -> np.ndarray:
    """int_{y_lo}^{y_hi} f(x, y) dy along a vertical edge -> [C]."""
    ys, wys = quadrature_points(y_lo, y_hi)
    return (bilinear(feature, np.full_like(ys, x), ys) * wys).sum(axis=1)


@pytest.fixture
def features() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(2, 3, 7, 9, generator=generator, dtype=torch.float64)


BOXES = [
    # (batch, x1, y1, x2, y2) in image pixels; spatial_scale 0.5 below
    (0, 2.3, 3.1, 9.7, 8.9),  # inside
    (1, -3.4, -2.2, 5.5, 4.1),  # crosses top-left border
    (0, 12.2, 9.3, 21.0, 16.7),  # crosses bottom-right border, partly beyond the one-cell fall-off
    (1, 4.0, 6.0, 10.0, 8.0),  # integer feature coordinates
    (0, 7.31, 5.17, 7.312, 5.1745),  # tiny box
]


@pytest.mark.parametrize("output_size", [(1, 1), (3, 3), (2, 5)])
def test_matches_exact_quadrature(features: torch.Tensor, output_size: tuple[int, int]) -> None:
    scale = 0.5
    rois = torch.tensor(BOXES, dtype=torch.float64)
    out = prroi_pool2d(features, rois, output_size, scale)
    assert out.shape == (len(BOXES), 3, *output_size)
    for k, (b, *box) in enumerate(BOXES):
        expected = reference_pool(features[b].numpy(), tuple(v * scale for v in box), *output_size)
        np.testing.assert_allclose(out[k].numpy(), expected, rtol=1e-9, atol=1e-10)


def test_hand_computed_values() -> None:
    # f(x, y) = x on [0, 3]: feature[:, j] = j. The mean over [0.5, 1.5] x [0, 0] ... use a ramp in x only.
    feature = torch.arange(4, dtype=torch.float64).repeat(4, 1)[None, None]  # value j at column j, 4x4 map
    # Box [1, 2] x [1, 2]: interior, f linear -> mean = 1.5.
    assert prroi_pool2d(feature, torch.tensor([[0, 1.0, 1.0, 2.0, 2.0]], dtype=torch.float64), 1, 1.0).item() == pytest.approx(1.5)
    # Box [3, 4] x [1, 2]: beyond the last column f falls from 3 to 0 -> mean 1.5.
    assert prroi_pool2d(feature, torch.tensor([[0, 3.0, 1.0, 4.0, 2.0]], dtype=torch.float64), 1, 1.0).item() == pytest.approx(1.5)
    # Box [4, 6] x [1, 2]: entirely outside the fall-off -> 0.
    assert prroi_pool2d(feature, torch.tensor([[0, 4.0, 1.0, 6.0, 2.0]], dtype=torch.float64), 1, 1.0).item() == 0.0
    # Constant map of ones: the top-left corner cell [-1, 0]^2 integrates (1/2)*(1/2) -> mean 0.25.
    ones = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    assert prroi_pool2d(ones, torch.tensor([[0, -1.0, -1.0, 0.0, 0.0]], dtype=torch.float64), 1, 1.0).item() == pytest.approx(0.25)


def test_batched_matches_quadrature(features: torch.Tensor) -> None:
    boxes = torch.tensor([[[2.3, 3.1, 9.7, 8.9], [-3.4, -2.2, 5.5, 4.1]], [[12.2, 9.3, 21.0, 16.7], [4.0, 6.0, 10.0, 8.0]]], dtype=torch.float64)
    out = prroi_pool2d_batched(features, boxes, (3, 2), 0.5)
    assert out.shape == (2, 2, 3, 3, 2)
    for b in range(2):
        for p in range(2):
            expected = reference_pool(features[b].numpy(), tuple(v * 0.5 for v in boxes[b, p].tolist()), 3, 2)
            np.testing.assert_allclose(out[b, p].numpy(), expected, rtol=1e-9, atol=1e-10)


def test_tiny_box_tends_to_point_value(features: torch.Tensor) -> None:
    x, y = 3.37, 2.81
    for size in (1e-2, 1e-4):
        rois = torch.tensor([[1, x - size / 2, y - size / 2, x + size / 2, y + size / 2]], dtype=torch.float32)
        out = prroi_pool2d(features.float(), rois, 1, 1.0)[0, :, 0, 0]
        point = bilinear(features[1].numpy(), np.array(x), np.array(y))
        np.testing.assert_allclose(out.numpy(), point, rtol=1e-3, atol=2e-4)


def test_empty_and_negative_boxes_give_zero(features: torch.Tensor) -> None:
    rois = torch.tensor([[0, 5.0, 3.0, 5.0, 8.0], [0, 5.0, 3.0, 2.0, 8.0], [1, 1.0, 6.0, 4.0, 6.0]], dtype=torch.float64, requires_grad=True)
    out = prroi_pool2d(features, rois, (2, 2), 0.5)
    assert torch.count_nonzero(out) == 0
    out.sum().backward()
    assert torch.isfinite(rois.grad).all()


def test_float32_matches_float64(features: torch.Tensor) -> None:
    rois = torch.tensor(BOXES[:4], dtype=torch.float64)
    out64 = prroi_pool2d(features, rois, 5, 0.5)
    out32 = prroi_pool2d(features.float(), rois.float(), 5, 0.5)
    assert out32.dtype == torch.float32
    torch.testing.assert_close(out32.double(), out64, rtol=1e-5, atol=1e-5)


def test_gradcheck_features_and_rois() -> None:
    generator = torch.Generator().manual_seed(1)
    feats = torch.randn(2, 2, 5, 6, generator=generator, dtype=torch.float64, requires_grad=True)
    coords = torch.tensor([[0.37, 0.61, 3.83, 3.29], [-0.77, 1.13, 2.41, 5.53], [3.93, 2.21, 6.47, 5.87]], dtype=torch.float64, requires_grad=True)
    batch_idx = torch.tensor([[0.0], [1.0], [0.0]], dtype=torch.float64)

    def pool(f: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return prroi_pool2d(f, torch.cat((batch_idx, c), dim=1), (2, 3), 1.0)

    assert torch.autograd.gradcheck(pool, (feats, coords), eps=1e-6, atol=1e-6)

    def pool_batched(f: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return prroi_pool2d_batched(f, c.view(1, 3, 4).expand(2, 3, 4), (3, 2), 0.5)

    assert torch.autograd.gradcheck(pool_batched, (feats, coords * 2), eps=1e-6, atol=1e-6)


def test_roi_gradient_matches_closed_form(features: torch.Tensor) -> None:
    """Facts section b: dP/dx1' = (-int f(x1', y) dy + (y2'-y1') P) / A, dP/dx2' = (int f(x2', y) dy - (y2'-y1') P) / A."""
    scale = 0.5
    box = [2.3, 3.1, 9.7, 8.9]
    rois = torch.tensor([[0.0, *box]], dtype=torch.float64, requires_grad=True)
    out = prroi_pool2d(features, rois, 1, scale)
    channel = 1
    out[0, channel, 0, 0].backward()
    x1, y1, x2, y2 = (v * scale for v in box)
    area = (x2 - x1) * (y2 - y1)
    value = out[0, channel, 0, 0].item()
    feature = features[0].numpy()
    left = reference_line_integral_x(feature, x1, y1, y2)[channel]
    right = reference_line_integral_x(feature, x2, y1, y2)[channel]
    expected_x1 = (-left + (y2 - y1) * value) / area * scale
    expected_x2 = (right - (y2 - y1) * value) / area * scale
    assert rois.grad[0, 0].item() == 0.0
    assert rois.grad[0, 1].item() == pytest.approx(expected_x1, rel=1e-9, abs=1e-12)
    assert rois.grad[0, 3].item() == pytest.approx(expected_x2, rel=1e-9, abs=1e-12)


def test_roi_gradient_on_integer_edges_is_one_sided() -> None:
    # f(x, y) = x (interior ramp); box [1, 2] x [1, 2] has integer edges: dP/dx2 of mean x = 1/2 exactly.
    feature = torch.arange(5, dtype=torch.float64).repeat(5, 1)[None, None]
    rois = torch.tensor([[0, 1.0, 1.0, 2.0, 2.0]], dtype=torch.float64, requires_grad=True)
    prroi_pool2d(feature, rois, 1, 1.0).sum().backward()
    torch.testing.assert_close(rois.grad, torch.tensor([[0.0, 0.5, 0.0, 0.5, 0.0]], dtype=torch.float64))


@pytest.mark.parametrize(
    "rois, message",
    [
        (torch.zeros(3, 4), "K, 5"),
        (torch.tensor([[0.0, 1.0, 1.0, float("nan"), 3.0]]), "non-finite"),
        (torch.tensor([[2.0, 1.0, 1.0, 3.0, 3.0]]), "batch indices"),
        (torch.tensor([[0.5, 1.0, 1.0, 3.0, 3.0]]), "batch indices"),
        (torch.tensor([[-1.0, 1.0, 1.0, 3.0, 3.0]]), "batch indices"),
    ],
)
def test_bad_rois_raise(rois: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        prroi_pool2d(torch.zeros(2, 1, 4, 4), rois, 2, 1.0)


def test_bad_arguments_raise() -> None:
    rois = torch.tensor([[0.0, 1.0, 1.0, 3.0, 3.0]])
    with pytest.raises(ValueError, match="B, C, H, W"):
        prroi_pool2d(torch.zeros(1, 4, 4), rois, 2, 1.0)
    with pytest.raises(ValueError, match="output_size"):
        prroi_pool2d(torch.zeros(1, 1, 4, 4), rois, 0, 1.0)
    with pytest.raises(ValueError, match="spatial_scale"):
        prroi_pool2d(torch.zeros(1, 1, 4, 4), rois, 2, -1.0)
    with pytest.raises(ValueError, match="boxes"):
        prroi_pool2d_batched(torch.zeros(2, 1, 4, 4), torch.zeros(1, 3, 4), 2, 1.0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_cuda_matches_quadrature(features: torch.Tensor) -> None:
    rois = torch.tensor(BOXES, dtype=torch.float64)
    out = prroi_pool2d(features.cuda(), rois.cuda(), (3, 3), 0.5).cpu()
    for k, (b, *box) in enumerate(BOXES):
        expected = reference_pool(features[b].numpy(), tuple(v * 0.5 for v in box), 3, 3)
        np.testing.assert_allclose(out[k].numpy(), expected, rtol=1e-9, atol=1e-10)
    coords = rois[:, 1:].clone().cuda().float().requires_grad_(True)
    out32 = prroi_pool2d(features.float().cuda(), torch.cat((rois[:, :1].cuda().float(), coords), 1), 3, 0.5)
    out32.sum().backward()
    assert torch.isfinite(coords.grad).all()


def test_levels_in_one_pass_match_quadrature_per_level() -> None:
    """Two maps of different size, stride and bin count, pooled in one call, against the exact integral."""
    generator = torch.Generator().manual_seed(3)
    fine = torch.randn(1, 3, 9, 7, generator=generator, dtype=torch.float64)
    coarse = torch.randn(1, 2, 5, 4, generator=generator, dtype=torch.float64)
    boxes = torch.tensor([[[3.1, 5.7, 41.3, 50.9], [-6.0, 2.5, 20.2, 30.0], [30.0, 40.0, 29.0, 61.0]]],
                         dtype=torch.float64)  # the last one has x2 < x1: all its bins are 0
    levels = [(pooling_layout(fine), 7, 5, 1 / 8), (pooling_layout(coarse), 4, 3, 1 / 16)]
    xywh = torch.cat((boxes[..., :2], boxes[..., 2:] - boxes[..., :2]), dim=-1)
    outputs, _ = pool_levels(levels, xywh, level_bins([(5, 1 / 8), (3, 1 / 16)], 9, boxes))
    for (features, (_, _, bins, scale)), out in zip(((fine, levels[0]), (coarse, levels[1])), outputs):
        assert out.shape == (1, 3, bins, bins, features.shape[1])
        for index, box in enumerate(boxes[0].tolist()):
            expected = reference_pool(features[0].numpy(), tuple(v * scale for v in box), bins, bins)  # [C, oh, ow]
            np.testing.assert_allclose(out[0, index].permute(2, 1, 0).numpy(), expected, rtol=1e-9, atol=1e-10)


class _ClosedFormPool(torch.autograd.Function):
    """``pool_levels`` with ``pool_levels_box_grad`` as its backward pass, for gradcheck."""

    @staticmethod
    def forward(ctx, boxes: torch.Tensor, levels: list) -> tuple[torch.Tensor, ...]:
        bins = level_bins([(count, scale) for _, _, count, scale in levels], 9, boxes)
        outputs, ctx.tape = pool_levels(levels, boxes, bins)
        return tuple(outputs)

    @staticmethod
    def backward(ctx, *grads: torch.Tensor):
        return pool_levels_box_grad(ctx.tape, list(grads)), None


def test_levels_box_gradient_matches_finite_differences() -> None:
    """The closed-form box gradient on two levels against finite differences: (x, y, w, h) boxes inside, across the
    border, beyond the fall-off, on integer edges and with a negative width (zero gradient)."""
    generator = torch.Generator().manual_seed(4)
    fine = torch.randn(2, 3, 9, 7, generator=generator, dtype=torch.float64)
    coarse = torch.randn(2, 2, 5, 4, generator=generator, dtype=torch.float64)
    levels = [(pooling_layout(fine), 7, 5, 1 / 8), (pooling_layout(coarse), 4, 3, 1 / 16)]
    boxes = torch.tensor([[[3.1, 5.7, 38.2, 45.2], [-6.0, 2.5, 26.2, 27.5], [30.0, 40.0, -1.0, 21.0]],
                          [[8.0, 16.0, 32.0, 32.0], [1.3, 2.2, 68.7, 87.9], [10.1, 10.2, 0.5, 0.7]]],
                         dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda b: _ClosedFormPool.apply(b, levels), (boxes,), eps=1e-6, atol=1e-7)
    outputs = _ClosedFormPool.apply(boxes, levels)
    (grad,) = torch.autograd.grad(sum(out.sum() for out in outputs), boxes)
    assert grad[0, 2].abs().sum() == 0  # negative width: every bin is empty


def test_levels_box_gradient_matches_closed_form(features: torch.Tensor) -> None:
    """Facts section b's edge derivatives (line integrals along the box edges), one bin, as for ``prroi_pool2d``."""
    scale, box, channel = 0.5, [2.3, 3.1, 9.7, 8.9], 1
    layout = pooling_layout(features[:1])
    x1, y1, x2, y2 = box
    xywh = torch.tensor([[[x1, y1, x2 - x1, y2 - y1]]], dtype=torch.float64)
    (out,), tape = pool_levels([(layout, features.shape[-1], 1, scale)], xywh, level_bins([(1, scale)], 9, xywh))
    grad_out = torch.zeros_like(out)
    grad_out[..., channel] = 1.0
    grad = pool_levels_box_grad(tape, [grad_out])[0, 0]
    x1, y1, x2, y2 = (v * scale for v in box)
    area, value, feature = (x2 - x1) * (y2 - y1), out[0, 0, 0, 0, channel].item(), features[0].numpy()
    left = reference_line_integral_x(feature, x1, y1, y2)[channel]
    right = reference_line_integral_x(feature, x2, y1, y2)[channel]
    d_x1 = (-left + (y2 - y1) * value) / area * scale
    d_x2 = (right - (y2 - y1) * value) / area * scale
    assert grad[0].item() == pytest.approx(d_x1 + d_x2, rel=1e-9, abs=1e-12)  # x moves both edges
    assert grad[2].item() == pytest.approx(d_x2, rel=1e-9, abs=1e-12)  # w moves the right edge
