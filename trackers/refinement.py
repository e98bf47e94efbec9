"""Box refinement by gradient ascent on a differentiable score (EBM paper, Algorithm S1), batched.

``score_fn`` maps [N, D] boxes (any parameterisation, e.g. ATOM-EBM's relative space
``(cx / w0, cy / h0, log w, log h)``) to [N] scores; rows are independent. Both functions enable autograd
internally, so they work when the caller runs under ``torch.no_grad()``. Under ``torch.inference_mode()``
tensors created there cannot be saved for backward: compute the features that ``score_fn`` closes over
under ``torch.no_grad()`` instead. The loops have no host synchronisation (no ``.item()``, no branching
on tensor values), so they can be captured in a CUDA graph.
"""
from __future__ import annotations

from typing import Callable

import torch

__all__ = ["gradient_ascent", "fixed_step_ascent"]

ScoreFn = Callable[[torch.Tensor], torch.Tensor]


def _check_inputs(y0: torch.Tensor, num_iter: int, step_length: float | torch.Tensor) -> torch.Tensor:
    """Validate and return the per-row step tensor [N, D]."""
    if not isinstance(y0, torch.Tensor) or y0.dim() != 2 or not y0.is_floating_point():
        raise ValueError(f"y0 must be a floating-point [N, D] tensor, got {getattr(y0, 'dtype', type(y0).__name__)} {tuple(getattr(y0, 'shape', ()))}")
    if not isinstance(num_iter, int) or num_iter < 0:
        raise ValueError(f"num_iter must be a non-negative int, got {num_iter!r}")
    capturing = y0.is_cuda and torch.cuda.is_current_stream_capturing()
    if not capturing and not bool(torch.isfinite(y0).all()):
        raise ValueError("y0 contains non-finite values")
    step = torch.as_tensor(step_length, dtype=y0.dtype, device=y0.device)
    if step.dim() > 1 or (step.dim() == 1 and step.shape[0] != y0.shape[1]):
        raise ValueError(f"step_length must be a scalar or a [{y0.shape[1]}] tensor, got shape {tuple(step.shape)}")
    if not capturing and not bool(((step > 0) & torch.isfinite(step)).all()):
        raise ValueError(f"step_length must be positive and finite, got {step.tolist()}")
    return step.expand(y0.shape).clone()


def _scores(score_fn: ScoreFn, y: torch.Tensor) -> torch.Tensor:
    score = score_fn(y)
    if score.shape != y.shape[:1]:
        raise ValueError(f"score_fn must map [N, D] boxes to [N] scores, got shape {tuple(score.shape)} for N={y.shape[0]}")
    return score


def _score_and_grad(score_fn: ScoreFn, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One forward + backward: (score [N], d score / d y [N, D])."""
    y = y.detach().requires_grad_(True)
    score = _scores(score_fn, y)
    (grad,) = torch.autograd.grad(score.sum(), y)
    return score.detach(), grad


def gradient_ascent(
    score_fn: ScoreFn, y0: torch.Tensor, num_iter: int, step_length: float | torch.Tensor, decay: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm S1: per row, step along the gradient and keep the step only if the score increases.

    A row whose candidate ``y + step * grad`` does not score strictly higher (or is not finite) keeps its
    box and multiplies its own step by ``decay``. The candidate is scored with autograd enabled, so its
    gradient is at hand when it is accepted (an accepted row's next gradient is the candidate's, a rejected
    row keeps its gradient): one forward+backward at y0, then one forward+backward per iteration (the
    last candidate is scored without grad). That is num_iter forward+backward passes and one forward,
    instead of S1's num_iter forward+backward and num_iter forwards, with the same iterates.

    Args:
        score_fn: [N, D] -> [N] differentiable score.
        y0: [N, D] initial boxes.
        num_iter: iterations (>= 0).
        step_length: positive scalar or [D] per-dimension step.
        decay: step shrink factor in (0, 1] for rows whose step was rejected.

    Returns:
        (y [N, D] final boxes, score [N] = score_fn(y)).
    """
    if not isinstance(decay, (int, float)) or not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay!r}")
    with torch.inference_mode(False), torch.enable_grad():
        step = _check_inputs(y0, num_iter, step_length)
        y = y0.detach().clone()
        if num_iter == 0:
            with torch.no_grad():
                return y, _scores(score_fn, y)
        score, grad = _score_and_grad(score_fn, y)
        for iteration in range(num_iter):
            candidate = y + step * grad
            # A non-finite gradient must not reach score_fn: such a row re-evaluates y and is rejected.
            candidate = torch.where(torch.isfinite(candidate).all(dim=1, keepdim=True), candidate, y)
            last = iteration == num_iter - 1
            if last:
                with torch.no_grad():
                    candidate_score = _scores(score_fn, candidate)
            else:
                candidate_score, candidate_grad = _score_and_grad(score_fn, candidate)
            accept = candidate_score > score
            y = torch.where(accept.unsqueeze(1), candidate, y)
            score = torch.where(accept, candidate_score, score)
            step = torch.where(accept.unsqueeze(1), step, step * decay)
            if not last:
                grad = torch.where(accept.unsqueeze(1), candidate_grad, grad)
    return y, score


def fixed_step_ascent(
    score_fn: ScoreFn, y0: torch.Tensor, num_iter: int, step_length: float | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """ATOM-style ascent: ``y <- y + step * grad`` unconditionally, ``num_iter`` times.

    Costs one forward+backward per iteration plus one final forward for the returned scores (unlike
    pytracking, which returns the scores from before the last step).

    Args:
        score_fn: [N, D] -> [N] differentiable score.
        y0: [N, D] initial boxes.
        num_iter: iterations (>= 0).
        step_length: positive scalar or [D] per-dimension step.

    Returns:
        (y [N, D] final boxes, score [N] = score_fn(y)).
    """
    with torch.inference_mode(False), torch.enable_grad():
        step = _check_inputs(y0, num_iter, step_length)
        y = y0.detach().clone()
        for _ in range(num_iter):
            _, grad = _score_and_grad(score_fn, y)
            y = y + step * grad
        with torch.no_grad():
            return y, _scores(score_fn, y)
