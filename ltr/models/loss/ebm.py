"""IoU-Net objectives: EBM negative log-likelihood (ATOM-EBM), KL regression (PrDiMP), IoU MSE (ATOM).

Scores ``s`` are unbounded network outputs (negative energies). With proposals ``y_m ~ q`` the
normaliser ``Z = int exp(s(y)) dy`` is estimated by importance sampling, ``Z ~ (1/M) sum_m exp(s_m) / q_m``.
All sums use ``logsumexp`` so scores of +-1e4 stay finite.
"""
from __future__ import annotations

import math

import torch

__all__ = ["ebm_nll_loss", "kl_regression_loss", "iou_mse_loss"]


def _check_matrix(name: str, tensor: torch.Tensor, min_cols: int = 1) -> None:
    if not isinstance(tensor, torch.Tensor) or tensor.dim() != 2 or tensor.shape[0] < 1 or tensor.shape[1] < min_cols:
        raise ValueError(f"{name} must be an [N, M] tensor with N >= 1 and M >= {min_cols}, got shape {tuple(getattr(tensor, 'shape', ()))}")
    if not tensor.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {tensor.dtype}")


def _check_same_shape(a_name: str, a: torch.Tensor, b_name: str, b: torch.Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{a_name} {tuple(a.shape)} and {b_name} {tuple(b.shape)} must have the same shape")


def _check_finite(name: str, tensor: torch.Tensor) -> None:
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def _check_density(name: str, density: torch.Tensor) -> None:
    _check_finite(name, density)
    if not bool((density > 0).all()):
        raise ValueError(f"{name} must be positive (proposal densities q > 0)")


def ebm_nll_loss(scores: torch.Tensor, density: torch.Tensor) -> torch.Tensor:
    """EBM negative log-likelihood ``mean_n [log((1/M) sum_m exp(s_nm) / q_nm) - s_n0]``.

    Args:
        scores: [N, 1 + M] scores; column 0 is the ground-truth box, columns 1..M the proposals.
        density: [N, 1 + M] proposal densities q; column 0 is ignored (the reference stores -1 there).

    Returns:
        Scalar loss (mean over N).
    """
    _check_matrix("scores", scores, min_cols=2)
    _check_matrix("density", density, min_cols=2)
    _check_same_shape("scores", scores, "density", density)
    _check_finite("scores", scores)
    _check_density("density[:, 1:]", density[:, 1:])
    samples = scores[:, 1:] - density[:, 1:].log()
    num = samples.shape[1]
    return (torch.logsumexp(samples, dim=1) - math.log(num) - scores[:, 0]).mean()


def kl_regression_loss(scores: torch.Tensor, sample_density: torch.Tensor, gt_density: torch.Tensor) -> torch.Tensor:
    """KL-divergence regression ``mean_n [logsumexp_m(s - log q) - log M - mean_m(s * p / q)]``.

    Args:
        scores: [N, M] scores of samples drawn from q.
        sample_density: [N, M] proposal densities q (> 0).
        gt_density: [N, M] label density p at the samples (>= 0).

    Returns:
        Scalar loss (mean over N).
    """
    _check_matrix("scores", scores)
    _check_same_shape("scores", scores, "sample_density", sample_density)
    _check_same_shape("scores", scores, "gt_density", gt_density)
    _check_finite("scores", scores)
    _check_density("sample_density", sample_density)
    _check_finite("gt_density", gt_density)
    if not bool((gt_density >= 0).all()):
        raise ValueError("gt_density must be non-negative")
    num = scores.shape[1]
    log_z = torch.logsumexp(scores - sample_density.log(), dim=1) - math.log(num)
    cross = (scores * gt_density / sample_density).mean(dim=1)
    return (log_z - cross).mean()


def iou_mse_loss(predicted: torch.Tensor, iou: torch.Tensor) -> torch.Tensor:
    """ATOM's IoU regression: mean squared error between ``predicted`` [N, M] and the target ``2 * iou - 1``."""
    _check_matrix("predicted", predicted)
    _check_same_shape("predicted", predicted, "iou", iou)
    _check_finite("predicted", predicted)
    _check_finite("iou", iou)
    return torch.mean((predicted - (2.0 * iou - 1.0)) ** 2)
