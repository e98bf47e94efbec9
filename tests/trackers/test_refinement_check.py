"""First-frame self-check of the IoU-Net refinement: perturbation statistics and the on/off decision."""
from __future__ import annotations

import math

import pytest
import torch

from trackers.atom_ebm.refinement_check import CENTRE_NOISE, LOG_SIZE_NOISE, check_refinement, perturbed_boxes

BOX = torch.tensor([40.0, 60.0, 30.0, 50.0], dtype=torch.float64)


def test_perturbation_statistics_match_their_definition():
    boxes = perturbed_boxes(BOX, 20000, torch.Generator().manual_seed(0))
    centre_shift = boxes[:, :2] + boxes[:, 2:] / 2 - (BOX[:2] + BOX[2:] / 2)
    log_ratio = torch.log(boxes[:, 2:] / BOX[2:])
    extent = math.sqrt(30.0 * 50.0)
    torch.testing.assert_close(centre_shift.mean(0), torch.zeros(2, dtype=torch.float64), atol=0.05 * extent * CENTRE_NOISE, rtol=0)
    torch.testing.assert_close(centre_shift.std(0), torch.full((2,), CENTRE_NOISE * extent, dtype=torch.float64), rtol=0.03, atol=0)
    torch.testing.assert_close(log_ratio.std(0), torch.full((2,), LOG_SIZE_NOISE, dtype=torch.float64), rtol=0.03, atol=0)
    torch.testing.assert_close(log_ratio.mean(0), torch.zeros(2, dtype=torch.float64), atol=0.01, rtol=0)


def _halfway_to(target: torch.Tensor):
    return lambda boxes: (boxes + target) / 2


def test_decision_follows_the_iou_change():
    generator = torch.Generator().manual_seed(1)
    shifted = BOX + torch.tensor([8.0, -6.0, 0.0, 0.0], dtype=torch.float64)
    towards = check_refinement([(_halfway_to(BOX), BOX), (_halfway_to(shifted), shifted)], 8, generator)
    assert towards.iou_after > towards.iou_before and towards.refinement_helps
    away = check_refinement([(lambda b: b + torch.tensor([15.0, 0.0, 0.0, 0.0], dtype=torch.float64), BOX)], 8, generator)
    assert away.iou_after < away.iou_before and not away.refinement_helps
    unchanged = check_refinement([(lambda b: b, BOX)], 8, generator)
    assert unchanged.iou_after == unchanged.iou_before and not unchanged.refinement_helps


def test_iou_before_is_the_mean_iou_of_the_perturbed_boxes():
    """Recomputed here with an independent IoU formula on the same draws."""
    result = check_refinement([(lambda b: b, BOX)], 5, torch.Generator().manual_seed(3))
    boxes = perturbed_boxes(BOX, 5, torch.Generator().manual_seed(3))
    ious = []
    for x, y, w, h in boxes.tolist():
        ix = max(0.0, min(x + w, 70.0) - max(x, 40.0))
        iy = max(0.0, min(y + h, 110.0) - max(y, 60.0))
        ious.append(ix * iy / (w * h + 1500.0 - ix * iy))
    assert result.iou_before == pytest.approx(sum(ious) / 5, rel=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one view"):
        check_refinement([], 4)
    with pytest.raises(ValueError, match="num_per_view"):
        check_refinement([(lambda b: b, BOX)], 0)
