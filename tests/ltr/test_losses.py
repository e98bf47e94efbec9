"""EBM NLL, KL regression and IoU MSE against hand-computed numbers and a Monte-Carlo property."""
from __future__ import annotations

import math

import pytest
import torch

from ltr.models.loss.ebm import ebm_nll_loss, iou_mse_loss, kl_regression_loss


def test_ebm_nll_hand_numbers() -> None:
    scores = torch.tensor([[0.5, 1.0, -2.0, 0.3], [2.0, 0.0, 1.0, -1.0]], dtype=torch.float64)
    density = torch.tensor([[-1.0, 0.2, 0.5, 1.5], [-1.0, 1.0, 0.1, 2.0]], dtype=torch.float64)
    expected = []
    for s, q in zip(scores.tolist(), density.tolist()):
        z = sum(math.exp(sk) / qk for sk, qk in zip(s[1:], q[1:])) / 3
        expected.append(math.log(z) - s[0])
    assert ebm_nll_loss(scores, density).item() == pytest.approx(sum(expected) / 2, rel=1e-12)


def test_ebm_nll_extreme_scores_are_stable() -> None:
    scores = torch.tensor([[3.0, 1e4, 1e4], [-1e4, -1e4, -1e4 + math.log(2.0)]], dtype=torch.float64)
    density = torch.tensor([[-1.0, 1.0, 1.0], [-1.0, 1.0, 2.0]], dtype=torch.float64)
    # row 0: log((e^1e4 + e^1e4) / 2) - 3 = 1e4 - 3; row 1: log((e^-1e4 + e^-1e4 * 2 / 2) / 2) + 1e4 = 0
    loss = ebm_nll_loss(scores, density)
    assert math.isfinite(loss.item())
    assert loss.item() == pytest.approx((1e4 - 3.0 + 0.0) / 2, rel=1e-12)
    scores32 = torch.tensor([[0.0, 1e4, -1e4]], requires_grad=True)
    ebm_nll_loss(scores32, torch.tensor([[-1.0, 1.0, 1.0]])).backward()
    assert torch.isfinite(scores32.grad).all()
    torch.testing.assert_close(scores32.grad, torch.tensor([[-1.0, 1.0, 0.0]]))


@pytest.mark.parametrize("dim", [1, 4])
def test_ebm_nll_estimates_negative_log_likelihood(dim: int) -> None:
    """Scores s = log p(y) + c of a known Gaussian p: the loss estimates -log p(y_gt) (c cancels via log Z)."""
    generator = torch.Generator().manual_seed(0)
    sigma_p, sigma_q, offset, num = 0.7, 1.2, 5.0, 200_000

    def log_normal(y: torch.Tensor, sigma: float) -> torch.Tensor:
        return (-0.5 * (y / sigma) ** 2 - math.log(sigma * math.sqrt(2 * math.pi))).sum(dim=-1)

    y_gt = torch.full((1, dim), 0.4, dtype=torch.float64)
    samples = sigma_q * torch.randn(1, num, dim, generator=generator, dtype=torch.float64)
    scores = torch.cat((log_normal(y_gt, sigma_p)[:, None], log_normal(samples, sigma_p)), dim=1) + offset
    density = torch.cat((torch.full((1, 1), -1.0, dtype=torch.float64), log_normal(samples, sigma_q).exp()), dim=1)
    expected = dim * (0.5 * (0.4 / sigma_p) ** 2 + math.log(sigma_p * math.sqrt(2 * math.pi)))
    assert ebm_nll_loss(scores, density).item() == pytest.approx(expected, abs=0.02)


def test_kl_regression_hand_numbers() -> None:
    scores = torch.tensor([[0.5, 1.0, -2.0], [2.0, 0.0, 1.0]], dtype=torch.float64)
    q = torch.tensor([[0.2, 0.5, 1.5], [1.0, 0.1, 2.0]], dtype=torch.float64)
    p = torch.tensor([[1.0, 0.0, 0.3], [0.0, 0.5, 0.25]], dtype=torch.float64)
    expected = []
    for s, qq, pp in zip(scores.tolist(), q.tolist(), p.tolist()):
        log_z = math.log(sum(math.exp(sk) / qk for sk, qk in zip(s, qq)) / 3)
        expected.append(log_z - sum(sk * pk / qk for sk, pk, qk in zip(s, pp, qq)) / 3)
    assert kl_regression_loss(scores, q, p).item() == pytest.approx(sum(expected) / 2, rel=1e-12)


def test_iou_mse_hand_numbers() -> None:
    predicted = torch.tensor([[0.5, -1.0], [0.0, 1.0]])
    iou = torch.tensor([[0.75, 0.0], [0.5, 0.25]])
    # targets 2*iou-1: [[0.5, -1], [0, -0.5]] -> squared errors [0, 0, 0, 2.25]
    assert iou_mse_loss(predicted, iou).item() == pytest.approx(2.25 / 4)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ebm_nll_loss(torch.zeros(2, 3), torch.ones(2, 4)), "same shape"),
        (lambda: ebm_nll_loss(torch.zeros(2, 1), torch.ones(2, 1)), "M >= 2"),
        (lambda: ebm_nll_loss(torch.zeros(3), torch.ones(3)), r"\[N, M\]"),
        (lambda: ebm_nll_loss(torch.tensor([[0.0, float("nan")]]), torch.ones(1, 2)), "NaN"),
        (lambda: ebm_nll_loss(torch.zeros(1, 3), torch.tensor([[-1.0, 1.0, 0.0]])), "positive"),
        (lambda: kl_regression_loss(torch.zeros(1, 3), torch.ones(1, 3), -torch.ones(1, 3)), "non-negative"),
        (lambda: kl_regression_loss(torch.zeros(1, 3), torch.ones(1, 3), torch.ones(1, 2)), "same shape"),
        (lambda: iou_mse_loss(torch.zeros(1, 3), torch.tensor([[0.0, float("inf"), 0.0]])), "NaN"),
    ],
)
def test_bad_input_raises(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
