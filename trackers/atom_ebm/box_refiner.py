"""IoU-Net box refinement for the tracker: initial boxes, ascent in the chosen space, top-k post-processing.

All boxes are (x, y, w, h) in crop pixels, batched [N, 4]; ``score_fn`` maps [N, 4] boxes to [N] scores and must
be differentiable w.r.t. the boxes. The refinement spaces:

* ``ascent`` -- Algorithm S1 (``trackers.refinement.gradient_ascent``, accept the step only if the score grows,
  else shrink that box's step by ``step_decay``) in the relative space (cx/w0, cy/h0, log w, log h), with
  (w0, h0) each box's own size ("own") or the first box's size ("first").
* ``fixed_step`` -- ATOM's unconditional steps (``trackers.refinement.fixed_step_ascent``) in (x, y, w, h) with the
  gradient scaled by the box size: x <- x + step * grad * (w0, h0, w0, h0).

The per-box size scaling of ``fixed_step`` is realised by a change of variables z = x / sqrt(step * size): a unit
step along the gradient w.r.t. z is a step of ``step * size * gradient`` w.r.t. x. (ATOM scales by the current
size at every iteration; here the initial size is used, which differs by the size change within 5 steps.)
"""
from __future__ import annotations

import functools
from typing import Callable

import torch

from ltr.data.box_ops import rel_to_xywh, xywh_to_rel
from trackers.atom_ebm.params import AtomEbmParams
from trackers.refinement import (
    StepFn,
    compile_s1_step,
    fixed_step_ascent,
    gradient_ascent,
)

ScoreFn = Callable[..., torch.Tensor]
#: smallest side of a refined box (crop px): a box must cover at least one pixel
MIN_BOX_SIDE = 1.0


def initial_boxes(estimate: torch.Tensor, num_random: int, jitter_pos: float, jitter_size: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """The estimate followed by ``num_random`` random boxes around it.

    Centres move by U(-0.5, 0.5) * jitter_pos * sqrt(w h) and sizes by U(-0.5, 0.5) * jitter_size * sqrt(w h)
    per axis; sizes are kept >= min(w, h) / 3.

    Args:
        estimate: [4] xywh box.
        num_random: number of random boxes.
        jitter_pos, jitter_size: relative jitter amplitudes.
        generator: random generator on the estimate's device.

    Returns:
        [1 + num_random, 4] xywh boxes, row 0 = the estimate.
    """
    if num_random == 0:
        return estimate[None].clone()
    size = estimate[2:]
    center = estimate[:2] + size / 2
    extent = torch.sqrt(size[0] * size[1])
    noise = torch.rand(num_random, 4, generator=generator, device=estimate.device, dtype=estimate.dtype) - 0.5
    centers = center + noise[:, :2] * jitter_pos * extent
    sizes = torch.maximum(size + noise[:, 2:] * jitter_size * extent, size.min() / 3)
    random_boxes = torch.cat((centers - sizes / 2, sizes), dim=1)
    return torch.cat((estimate[None], random_boxes), dim=0)


def _relative_score(z: torch.Tensor, size_norm: torch.Tensor, score_fn: ScoreFn, *context) -> torch.Tensor:
    return score_fn(rel_to_xywh(z, size_norm), *context)


def _scaled_score(z: torch.Tensor, root: torch.Tensor, score_fn: ScoreFn, *context) -> torch.Tensor:
    return score_fn(z * root, *context)


class BoxRefiner:
    """Refines a batch of boxes with the method selected by ``params.refinement``.

    With ``params.compile_refinement`` set, each S1 iteration runs as one compiled graph (see
    :func:`compiled_s1_step`); compiled once per process and box / map shape.
    """

    def __init__(self, params: AtomEbmParams):
        if params.refinement == "none":
            raise ValueError("BoxRefiner needs refinement 'ascent' or 'fixed_step', got 'none'")
        self.params = params
        self.step_fn = compiled_s1_step(params.compile_refinement) if params.compile_refinement else None

    def refine(self, score_fn: ScoreFn, boxes: torch.Tensor, context: tuple = (), with_evaluated: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Refine ``boxes`` [N, 4] (xywh, positive sizes).

        ``score_fn(boxes [N, 4], *context) -> [N]`` is differentiable w.r.t. the boxes; pass the tensors it reads as
        ``context`` (a module-level ``score_fn`` keeps a compiled step from recompiling).

        Returns:
            (boxes [N, 4], their scores [N], every evaluated box [K, N, 4] if ``with_evaluated`` else None).
        """
        p = self.params
        boxes = boxes.detach()
        evaluated: list[torch.Tensor] | None = [] if with_evaluated else None
        if p.refinement == "ascent":
            if p.box_normalization == "own":
                size_norm = boxes[:, 2:].clone()
            else:
                size_norm = boxes[:1, 2:].expand(boxes.shape[0], 2).clone()
            steps = boxes.new_tensor([p.step_length_center] * 2 + [p.step_length_size] * 2)
            z, scores = gradient_ascent(_relative_score, xywh_to_rel(boxes, size_norm), p.num_iter, steps,
                                        p.step_decay, context=(size_norm, score_fn, *context), step_fn=self.step_fn,
                                        evaluated=evaluated)
            refined = rel_to_xywh(z, size_norm)
            evaluated_boxes = rel_to_xywh(torch.stack(evaluated), size_norm) if with_evaluated else None
        else:
            root = (p.step_length_center * boxes[:, 2:].repeat(1, 2)).sqrt()
            z, scores = fixed_step_ascent(_scaled_score, boxes / root, p.num_iter, 1.0,
                                          context=(root, score_fn, *context), evaluated=evaluated)
            refined = z * root
            evaluated_boxes = torch.stack(evaluated) * root if with_evaluated else None
        return refined.detach(), scores.detach(), evaluated_boxes


@functools.cache
def compiled_s1_step(mode: str) -> StepFn:
    """``trackers.refinement.s1_step`` compiled once per process for ``compile_refinement`` = ``mode``."""
    if mode == "cudagraphs":  # CUDA graphs of the eager kernels: the eager numbers, without launch overhead
        return compile_s1_step(backend="cudagraphs")
    return compile_s1_step(mode=mode)


def select_final_box(boxes: torch.Tensor, scores: torch.Tensor, top_k: int,
                     max_aspect_ratio: float) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Post-process refined boxes: sizes >= 1, drop aspect ratios outside (1/r, r), average the top-k.

    Args:
        boxes: [N, 4] xywh; scores: [N].
        top_k: number of best boxes averaged.
        max_aspect_ratio: r.

    Returns:
        (box [4], mean score of the top-k [scalar]) or None when every box was dropped.
    """
    boxes = torch.cat((boxes[:, :2], boxes[:, 2:].clamp(min=MIN_BOX_SIDE)), dim=1)
    aspect = boxes[:, 2] / boxes[:, 3]
    keep = (aspect < max_aspect_ratio) & (aspect > 1.0 / max_aspect_ratio) & torch.isfinite(scores)
    keep &= torch.isfinite(boxes).all(dim=1)
    if not bool(keep.any()):
        return None
    boxes, scores = boxes[keep], scores[keep]
    k = min(top_k, boxes.shape[0])
    best_scores, index = torch.topk(scores, k)
    return boxes[index].mean(dim=0), best_scores.mean()
