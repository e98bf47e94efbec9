"""First-frame self-check of the IoU-Net: refine only where refinement is seen to improve boxes.

An IoU-Net that has not learned a transferable notion of box quality (a network on video unlike its training data)
drags boxes away from the target. The first frame is the one frame whose box is known, so the tracker perturbs that
box the way a classifier estimate with a stale size is perturbed, refines the perturbed boxes, and keeps refinement
on for the sequence only if their mean IoU with the known box rises significantly: by more than ``CONFIDENCE``
standard errors of the mean per-box gain, so that a gain within the noise does not count (experiments/NOTEBOOK.md, "First-frame
self-check").
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import torch

from ltr.data.box_ops import box_iou_xywh

logger = logging.getLogger(__name__)

#: perturbation of a box like a classifier estimate: centre + N(0, 0.1 sqrt(wh)) per axis, sides x exp(N(0, 0.15))
CENTRE_NOISE = 0.1
LOG_SIZE_NOISE = 0.15
#: one-sided test: the mean gain must exceed this many standard errors (2: about 98 % confidence)
CONFIDENCE = 2.0


@dataclass(frozen=True)
class CheckResult:
    """Mean IoU with the known box of the perturbed boxes before and after refinement, and the standard error of
    the mean per-box gain."""

    iou_before: float
    iou_after: float
    gain_std_error: float

    @property
    def refinement_helps(self) -> bool:
        return self.iou_after - self.iou_before > CONFIDENCE * self.gain_std_error


def perturbed_boxes(box: torch.Tensor, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """[num, 4] xywh boxes: ``box`` [4] (xywh) with its centre and sides perturbed (see the module constants)."""
    noise = torch.randn(num, 4, generator=generator, device=box.device, dtype=box.dtype)
    size = box[2:]
    center = box[:2] + size / 2 + noise[:, :2] * CENTRE_NOISE * torch.sqrt(size[0] * size[1])
    sizes = size * torch.exp(noise[:, 2:] * LOG_SIZE_NOISE)
    return torch.cat((center - sizes / 2, sizes), dim=1)


Refine = Callable[[torch.Tensor], torch.Tensor]


def check_refinement(views: list[tuple[Refine, torch.Tensor]], num_per_view: int,
                     generator: torch.Generator | None = None) -> CheckResult:
    """Refine ``num_per_view`` perturbed copies of the known box in every view and compare the mean IoUs.

    Args:
        views: (refine, box) pairs: ``refine`` maps [N, 4] xywh boxes to refined [N, 4] boxes on one crop in which
            the target box ``box`` [4] (xywh, same coordinates) is known.
        num_per_view: perturbed boxes per view (> 0).
        generator: random generator on the boxes' device.
    """
    if num_per_view <= 0 or not views:
        raise ValueError(f"need at least one view and num_per_view > 0, got {len(views)} views, {num_per_view}")
    before, after = [], []
    for refine, box in views:
        estimates = perturbed_boxes(box, num_per_view, generator)
        before.append(box_iou_xywh(estimates, box[None]))
        after.append(box_iou_xywh(refine(estimates), box[None]))
    before, after = torch.cat(before), torch.cat(after)
    gain = after - before
    std_error = gain.std() / len(gain) ** 0.5 if len(gain) > 1 else gain.new_tensor(0.0)
    return CheckResult(float(before.mean()), float(after.mean()), float(std_error))
