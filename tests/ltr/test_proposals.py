"""GMM proposal sampler and box operations against numpy formulas, sample statistics and got10k's IoU."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ltr.data.box_ops import (
    box_iou_xywh,
    rel_to_xywh,
    xywh_to_rel,
    xywh_to_xyxy,
    xyxy_to_xywh,
)
from ltr.data.proposals import sample_box_gmm, sample_box_gmm_batch

SIGMAS = [(0.05, 0.05), (0.5, 0.5)]


def numpy_offsets(proposals: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Relative offsets (dcx / w, dcy / h, log w'/w, log h'/h) of xywh proposals [M, 4] w.r.t. box [4]."""
    centre = proposals[:, :2] + proposals[:, 2:] / 2
    box_centre = box[:2] + box[2:] / 2
    return np.concatenate(((centre - box_centre) / box[2:], np.log(proposals[:, 2:] / box[2:])), axis=1)


def numpy_mixture_pdf(offsets: np.ndarray, sigmas: list[tuple[float, float]]) -> np.ndarray:
    total = np.zeros(len(offsets))
    for sigma_pos, sigma_size in sigmas:
        std = np.array([sigma_pos, sigma_pos, sigma_size, sigma_size])
        total += np.prod(np.exp(-0.5 * (offsets / std) ** 2) / (math.sqrt(2 * math.pi) * std), axis=1)
    return total / len(sigmas)


def test_density_matches_numpy_formula() -> None:
    box = torch.tensor([30.0, 40.0, 20.0, 50.0], dtype=torch.float64)
    proposals, density = sample_box_gmm(box, SIGMAS, 500, generator=torch.Generator().manual_seed(0))
    assert proposals.shape == (500, 4) and density.shape == (500,)
    offsets = numpy_offsets(proposals.numpy(), box.numpy())
    np.testing.assert_allclose(density.numpy(), numpy_mixture_pdf(offsets, SIGMAS), rtol=1e-10)
    # with sigma 0.05 a hand value: the density at zero offset is (1/2)(1/(2 pi 0.05^2))^2 + (1/2)(1/(2 pi 0.25))^2
    peak = 0.5 / (2 * math.pi * 0.05**2) ** 2 + 0.5 / (2 * math.pi * 0.5**2) ** 2
    assert density.max().item() < peak


def test_sample_statistics_match_mixture() -> None:
    box = torch.tensor([10.0, 20.0, 40.0, 30.0], dtype=torch.float64)
    proposals, _ = sample_box_gmm(box, SIGMAS, 200_000, generator=torch.Generator().manual_seed(1))
    offsets = numpy_offsets(proposals.numpy(), box.numpy())
    np.testing.assert_allclose(offsets.mean(axis=0), 0.0, atol=0.005)
    mixture_var = np.mean([s**2 for s, _ in SIGMAS])
    expected_cov = np.diag([mixture_var] * 4)
    np.testing.assert_allclose(np.cov(offsets.T), expected_cov, atol=0.004)
    # One component per sample for all four dims: E[x_cx^2 x_logw^2] = mean_l sigma_pos_l^2 sigma_size_l^2,
    # which differs from the product of the marginals (independent components) by a factor ~1.9.
    joint = np.mean(offsets[:, 0] ** 2 * offsets[:, 2] ** 2)
    expected_joint = np.mean([p**2 * s**2 for p, s in SIGMAS])
    assert joint == pytest.approx(expected_joint, rel=0.05)
    assert abs(joint - mixture_var**2) > 0.3 * expected_joint


def test_density_is_normalised() -> None:
    """E_q[f / q] = int f = 1 for a normalised 4-D Gaussian f (importance sampling)."""
    box = torch.tensor([0.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    proposals, density = sample_box_gmm(box, SIGMAS, 200_000, generator=torch.Generator().manual_seed(2))
    offsets = numpy_offsets(proposals.numpy(), box.numpy())
    std = 0.2
    f = np.prod(np.exp(-0.5 * (offsets / std) ** 2) / (math.sqrt(2 * math.pi) * std), axis=1)
    assert np.mean(f / density.numpy()) == pytest.approx(1.0, abs=0.03)


def test_batch_and_generator_determinism() -> None:
    boxes = torch.tensor([[10.0, 20.0, 40.0, 30.0], [100.0, 50.0, 5.0, 8.0]])
    first = sample_box_gmm_batch(boxes, SIGMAS, 16, generator=torch.Generator().manual_seed(3))
    second = sample_box_gmm_batch(boxes, SIGMAS, 16, generator=torch.Generator().manual_seed(3))
    third = sample_box_gmm_batch(boxes, SIGMAS, 16, generator=torch.Generator().manual_seed(4))
    assert first[0].shape == (2, 16, 4) and first[1].shape == (2, 16)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[0], third[0])
    assert first[0].dtype == torch.float32
    for n in range(2):
        offsets = numpy_offsets(first[0][n].double().numpy(), boxes[n].double().numpy())
        np.testing.assert_allclose(first[1][n].numpy(), numpy_mixture_pdf(offsets, SIGMAS), rtol=1e-4)


@pytest.mark.parametrize(
    "boxes, sigmas, num, message",
    [
        (torch.tensor([[0.0, 0.0, 0.0, 5.0]]), SIGMAS, 4, "positive width"),
        (torch.tensor([[0.0, 0.0, -1.0, 5.0]]), SIGMAS, 4, "positive width"),
        (torch.tensor([[0.0, float("nan"), 3.0, 5.0]]), SIGMAS, 4, "finite"),
        (torch.tensor([0.0, 0.0, 3.0, 5.0]), SIGMAS, 4, r"\[N, 4\]"),
        (torch.tensor([[0.0, 0.0, 3.0, 5.0]]), [], 4, "sigmas"),
        (torch.tensor([[0.0, 0.0, 3.0, 5.0]]), [(0.05, -0.1)], 4, "sigmas"),
        (torch.tensor([[0.0, 0.0, 3.0, 5.0]]), [(0.05,)], 4, "sigmas"),
        (torch.tensor([[0.0, 0.0, 3.0, 5.0]]), [(float("nan"), 0.1)], 4, "sigmas"),
        (torch.tensor([[0.0, 0.0, 3.0, 5.0]]), SIGMAS, 0, "num_samples"),
    ],
)
def test_bad_input_raises(boxes: torch.Tensor, sigmas: list, num: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sample_box_gmm_batch(boxes, sigmas, num)


def test_single_box_shape_check() -> None:
    with pytest.raises(ValueError, match=r"\[4\]"):
        sample_box_gmm(torch.zeros(1, 4), SIGMAS, 3)


# ---- box operations ---------------------------------------------------------------------------------


def test_xyxy_conversions_hand_values() -> None:
    boxes = torch.tensor([[1.0, 2.0, 3.0, 4.0], [-1.5, 0.0, 2.5, 1.0]])
    assert xywh_to_xyxy(boxes).tolist() == [[1.0, 2.0, 4.0, 6.0], [-1.5, 0.0, 1.0, 1.0]]
    assert xyxy_to_xywh(torch.tensor([[1.0, 2.0, 4.0, 6.0]])).tolist() == [[1.0, 2.0, 3.0, 4.0]]


def test_iou_matches_got10k() -> None:
    from got10k.utils.metrics import rect_iou

    rng = np.random.default_rng(0)
    a = np.concatenate((rng.uniform(0, 50, (200, 2)), rng.uniform(1, 40, (200, 2))), axis=1)
    b = np.concatenate((rng.uniform(0, 50, (200, 2)), rng.uniform(1, 40, (200, 2))), axis=1)
    ours = box_iou_xywh(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(ours, rect_iou(a, b), rtol=1e-12, atol=1e-12)
    assert box_iou_xywh(torch.tensor([0.0, 0, 10, 10]), torch.tensor([5.0, 5, 10, 10])).item() == pytest.approx(25 / 175)
    assert box_iou_xywh(torch.tensor([0.0, 0, 0, 0]), torch.tensor([0.0, 0, 0, 0])).item() == 0.0


def test_relative_space_hand_values_and_roundtrip() -> None:
    box = torch.tensor([[10.0, 20.0, 4.0, 8.0]], dtype=torch.float64)
    norm = torch.tensor([[2.0, 4.0]], dtype=torch.float64)
    rel = xywh_to_rel(box, norm)
    torch.testing.assert_close(rel, torch.tensor([[6.0, 6.0, math.log(4.0), math.log(8.0)]], dtype=torch.float64))
    torch.testing.assert_close(rel_to_xywh(rel, norm), box)
    with pytest.raises(ValueError, match="positive"):
        xywh_to_rel(torch.tensor([[0.0, 0.0, -1.0, 2.0]]), torch.tensor([[1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"\[\.\.\., 4\]"):
        xywh_to_xyxy(torch.zeros(3))
