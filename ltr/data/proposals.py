"""Proposal boxes from a Gaussian mixture around a box, with their density (EBM / ML training).

Offsets live in the relative space ``(dcx / w, dcy / h, log(w' / w), log(h' / h))`` of the centre box
``(x, y, w, h)``. The mixture has L equal-weight, zero-mean, axis-aligned components; component l has
standard deviation ``sigma_pos`` on both centre offsets and ``sigma_size`` on both log-size offsets. Each
sample draws one component uniformly and uses it for all four dimensions. The density is the mixture
pdf of the offset in that space (no Jacobian to pixels), as in the reference ``sample_box_gmm``.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

__all__ = ["PAPER_SIGMAS", "sample_box_gmm", "sample_box_gmm_batch", "gmm_density"]

#: the EBM paper's proposal mixture, ``(sigma_pos, sigma_size)`` per component (its training and ours)
PAPER_SIGMAS = ((0.05, 0.05), (0.5, 0.5))


def _check_sigmas(sigmas: Sequence[tuple[float, float]]) -> torch.Tensor:
    try:
        table = torch.tensor([[float(pos), float(size)] for pos, size in sigmas], dtype=torch.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"sigmas must be a list of (sigma_pos, sigma_size) pairs, got {sigmas!r}") from error
    if table.shape[0] == 0 or not bool(torch.isfinite(table).all()) or not bool((table > 0).all()):
        raise ValueError(f"sigmas must be a non-empty list of positive finite (sigma_pos, sigma_size) pairs, got {sigmas!r}")
    return table


def _check_boxes(boxes: torch.Tensor) -> None:
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be an [N, 4] xywh tensor, got shape {tuple(getattr(boxes, 'shape', ()))}")
    if not boxes.is_floating_point() or not bool(torch.isfinite(boxes).all()):
        raise ValueError("boxes must be finite floating-point values")
    if not bool((boxes[:, 2:] > 0).all()):
        raise ValueError(f"boxes must have positive width and height, got {boxes[(boxes[:, 2:] <= 0).any(dim=1)].tolist()[:3]}")


def gmm_density(offsets: torch.Tensor, sigmas: Sequence[tuple[float, float]]) -> torch.Tensor:
    """Mixture pdf of [..., 4] relative offsets -> [...] (computed in float64, returned in the input dtype)."""
    table = _check_sigmas(sigmas).to(offsets.device)
    std = torch.stack((table[:, 0], table[:, 0], table[:, 1], table[:, 1]), dim=1)  # [L, 4]
    x = offsets.to(torch.float64).unsqueeze(-2)  # [..., 1, 4]
    log_pdf = (-0.5 * (x / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)).sum(dim=-1)  # [..., L]
    return (torch.logsumexp(log_pdf, dim=-1) - math.log(table.shape[0])).exp().to(offsets.dtype)


def sample_box_gmm_batch(
    boxes: torch.Tensor,
    sigmas: Sequence[tuple[float, float]],
    num_samples: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``num_samples`` proposals around each of [N, 4] xywh boxes.

    Args:
        boxes: [N, 4] xywh boxes with positive size.
        sigmas: list of L ``(sigma_pos, sigma_size)`` component standard deviations.
        num_samples: proposals per box M (>= 1).
        generator: optional ``torch.Generator`` (on the boxes' device) for reproducible draws.

    Returns:
        (proposals [N, M, 4] xywh, density [N, M]) in the boxes' dtype and device.
    """
    _check_boxes(boxes)
    table = _check_sigmas(sigmas)
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
    num = boxes.shape[0]
    components = torch.randint(table.shape[0], (num, num_samples), generator=generator, device=boxes.device)
    noise = torch.randn((num, num_samples, 4), generator=generator, device=boxes.device, dtype=boxes.dtype)
    table = table.to(device=boxes.device, dtype=boxes.dtype)
    std = table[components][..., [0, 0, 1, 1]]  # [N, M, 4]
    offsets = noise * std
    size = boxes[:, None, 2:]
    center = boxes[:, None, :2] + 0.5 * size + offsets[..., :2] * size
    new_size = size * offsets[..., 2:].exp()
    proposals = torch.cat((center - 0.5 * new_size, new_size), dim=-1)
    return proposals, gmm_density(offsets, sigmas)


def sample_box_gmm(
    box: torch.Tensor,
    sigmas: Sequence[tuple[float, float]],
    num_samples: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Single-box form of :func:`sample_box_gmm_batch`: [4] xywh box -> (proposals [M, 4], density [M])."""
    if not isinstance(box, torch.Tensor) or box.shape != (4,):
        raise ValueError(f"box must be a [4] xywh tensor, got shape {tuple(getattr(box, 'shape', ()))}")
    proposals, density = sample_box_gmm_batch(box.unsqueeze(0), sigmas, num_samples, generator)
    return proposals[0], density[0]
