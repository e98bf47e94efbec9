"""First-frame self-check of the IoU-Net refinement: perturbation statistics and the on/off decision."""
from __future__ import annotations

import math
import statistics

import pytest
import torch
from helpers import box_iou

from trackers.atom_ebm.refinement_check import (
    CENTRE_NOISE,
    CONFIDENCE,
    LOG_SIZE_NOISE,
    check_refinement,
    perturbed_boxes,
)

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


def _iou(a, b) -> float:
    return float(box_iou(a, b)[0])


def test_a_gain_within_its_noise_is_not_enough():
    """Three of four boxes snap onto the target, the fourth is thrown off it: the mean IoU rises, but by less than
    CONFIDENCE standard errors of the per-box gains (recomputed here with the statistics module)."""
    def refine(boxes: torch.Tensor) -> torch.Tensor:
        out = BOX.expand_as(boxes).clone()
        out[3::4] = BOX + torch.tensor([500.0, 0.0, 0.0, 0.0], dtype=torch.float64)
        return out

    result = check_refinement([(refine, BOX)], 8, torch.Generator().manual_seed(4))
    boxes = perturbed_boxes(BOX, 8, torch.Generator().manual_seed(4)).tolist()
    gains = [(0.0 if i % 4 == 3 else 1.0) - _iou(b, BOX.tolist()) for i, b in enumerate(boxes)]
    std_error = statistics.stdev(gains) / math.sqrt(len(gains))
    assert result.gain_std_error == pytest.approx(std_error, rel=1e-9)
    assert result.iou_after - result.iou_before == pytest.approx(statistics.fmean(gains), rel=1e-9)
    assert 0.0 < statistics.fmean(gains) < CONFIDENCE * std_error
    assert not result.refinement_helps


def test_iou_before_is_the_mean_iou_of_the_perturbed_boxes():
    """Recomputed here with an independent IoU formula on the same draws."""
    result = check_refinement([(lambda b: b, BOX)], 5, torch.Generator().manual_seed(3))
    boxes = perturbed_boxes(BOX, 5, torch.Generator().manual_seed(3))
    ious = [_iou(b, BOX.tolist()) for b in boxes.tolist()]
    assert result.iou_before == pytest.approx(sum(ious) / 5, rel=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one view"):
        check_refinement([], 4)
    with pytest.raises(ValueError, match="num_per_view"):
        check_refinement([(lambda b: b, BOX)], 0)
