"""ATOM-EBM augmentation, box refinement and parameter handling against hand-computed expectations."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import trackers.atom_ebm.parameters
from trackers.atom_ebm.augmentation import augmented_samples
from trackers.atom_ebm.box_refiner import BoxRefiner, initial_boxes, select_final_box
from trackers.atom_ebm.parameters import get_parameters, list_parameter_sets
from trackers.atom_ebm.params import (
    AtomEbmParams,
    parse_overrides,
    parse_value,
    with_overrides,
)
from trackers.atom_ebm.weights import CHECKPOINT_ENV_VAR, resolve_checkpoint


def test_augmented_samples_know_where_the_target_went():
    params = AtomEbmParams()
    expanded = np.zeros((576, 576, 3), np.uint8)
    offset = (30.0, -20.0)  # target centre relative to the crop centre (dx, dy)
    cv2.circle(expanded, (int(288 + offset[0]), int(288 + offset[1])), 6, (255, 255, 255), -1)
    crops, offsets = augmented_samples(expanded, 288, (offset[0] + 0.5, offset[1] + 0.5), params,
                                       np.random.default_rng(0))
    assert crops.shape == (params.num_init_samples - params.num_dropout_samples, 288, 288, 3)
    for crop, (dx, dy) in zip(crops, offsets):
        ys, xs = np.nonzero(crop[..., 0] > 128)
        # blob centroid in continuous coordinates relative to the sample centre
        assert xs.mean() + 0.5 - 144 == pytest.approx(dx, abs=0.3)
        assert ys.mean() + 0.5 - 144 == pytest.approx(dy, abs=0.3)
    assert tuple(offsets[0]) == (30.5, -19.5)  # identity first
    assert tuple(offsets[1]) == (30.5 + 86, -19.5 + 86)  # shift (0.6, 0.6) of half the sample size


def test_initial_boxes_ranges():
    estimate = torch.tensor([100.0, 80.0, 40.0, 10.0])
    boxes = initial_boxes(estimate, 500, 0.1, 0.5, torch.Generator().manual_seed(0))
    assert boxes.shape == (501, 4)
    assert boxes[0].tolist() == estimate.tolist()
    extent = 20.0  # sqrt(40 * 10)
    centers = boxes[1:, :2] + boxes[1:, 2:] / 2
    assert (centers - torch.tensor([120.0, 85.0])).abs().max() <= 0.05 * extent + 1e-4
    assert (boxes[1:, 2] - 40).abs().max() <= 0.25 * extent + 1e-4
    assert boxes[1:, 3].min() >= 10 / 3 - 1e-5  # sizes clamped at min(w, h) / 3


def test_select_final_box_hand_example():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 2.0, 12.0, 8.0], [0.0, 0.0, 70.0, 10.0],
                          [4.0, 4.0, 10.0, 0.5], [1.0, 1.0, 11.0, 9.0]])
    scores = torch.tensor([0.5, 0.9, 5.0, 0.1, 0.7])
    box, score = select_final_box(boxes, scores, top_k=3, max_aspect_ratio=6.0)
    # box 2 (aspect 7) dropped; box 3 becomes 10 x 1 (aspect 10) dropped; top-3 = boxes 1, 4, 0
    assert box.tolist() == pytest.approx([1.0, 1.0, 11.0, 9.0])
    assert float(score) == pytest.approx((0.9 + 0.7 + 0.5) / 3)
    assert select_final_box(boxes[2:4], scores[2:4], 3, 6.0) is None


def _quadratic_score(target: torch.Tensor):
    """Smooth score with its maximum at ``target`` (xywh): -||(c - c*) / size*||^2 - ||log size - log size*||^2."""

    def score(boxes: torch.Tensor) -> torch.Tensor:
        center = boxes[:, :2] + boxes[:, 2:] / 2
        t_center = target[:2] + target[2:] / 2
        return (-(((center - t_center) / target[2:]) ** 2).sum(1)
                - ((boxes[:, 2:].log() - target[2:].log()) ** 2).sum(1))

    return score


@pytest.mark.parametrize("overrides", [
    dict(refinement="ascent", box_normalization="own", step_length_center=0.5, step_length_size=0.5, num_iter=30),
    dict(refinement="ascent", box_normalization="first", step_length_center=0.5, step_length_size=0.5, num_iter=30),
    dict(refinement="fixed_step", step_length_center=10.0, num_iter=30),
])
def test_refiner_moves_boxes_to_score_maximum(overrides):
    params = with_overrides(AtomEbmParams(), overrides)
    target = torch.tensor([120.0, 100.0, 40.0, 30.0], dtype=torch.float64)
    start = torch.tensor([[110.0, 108.0, 50.0, 25.0], [126.0, 95.0, 36.0, 36.0], [118.0, 102.0, 44.0, 28.0]],
                         dtype=torch.float64)
    score_fn = _quadratic_score(target)
    refined, scores, _ = BoxRefiner(params).refine(score_fn, start)
    before = (start - target).abs().max(dim=1).values
    after = (refined - target).abs().max(dim=1).values
    assert (after < 0.1 * before).all(), (refined, target)
    torch.testing.assert_close(scores, score_fn(refined))
    assert (scores >= score_fn(start)).all()


def test_refiner_runs_under_no_grad():
    params = with_overrides(AtomEbmParams(), dict(step_length_center=0.5, step_length_size=0.5))
    target = torch.tensor([10.0, 10.0, 20.0, 20.0])
    with torch.no_grad():
        refined, _, _ = BoxRefiner(params).refine(_quadratic_score(target), torch.tensor([[12.0, 9.0, 22.0, 18.0]]))
    assert (refined - target).abs().max() < (torch.tensor([12.0, 9.0, 22.0, 18.0]) - target).abs().max()


def test_parameter_sets_and_errors():
    folder = Path(trackers.atom_ebm.parameters.__file__).parent
    modules = {path.stem for path in folder.glob("*.py")} - {"__init__"}
    assert set(list_parameter_sets()) == modules and list_parameter_sets()[0] == "default"
    for name in list_parameter_sets():
        assert isinstance(get_parameters(name), AtomEbmParams)
    with pytest.raises(ValueError, match="classifier_features must be distinct names from"):
        AtomEbmParams(classifier_features="layer4")
    with pytest.raises(ValueError, match="multiple of feature_stride 12"):
        AtomEbmParams(classifier_features="hog_color", hog_cell_size=12, image_sample_size=280)
    with pytest.raises(ValueError, match="refinement_check_boxes needs"):
        AtomEbmParams(refinement_check_boxes=8, augment_shift=())
    with pytest.raises(ValueError, match="valid: default, always_refine, atom_baseline, fast, no_refine"):
        get_parameters("nope")
    with pytest.raises(ValueError, match="iou_crop_size must be a multiple of 16"):
        AtomEbmParams(iou_crop_size=200)
    with pytest.raises(ValueError, match="iou_crop_size"):
        AtomEbmParams(iou_crop_size=320)
    with pytest.raises(ValueError, match="compile_refinement must be None or one of"):
        AtomEbmParams(compile_refinement="fastest", iou_window_margin=None)
    with pytest.raises(ValueError, match="iou_window_margin=None"):
        AtomEbmParams(compile_refinement="cudagraphs")
    with pytest.raises(ValueError, match="unknown tracker parameter"):
        with_overrides(AtomEbmParams(), {"step_lenght": 1.0})
    with pytest.raises(ValueError, match="refinement"):
        AtomEbmParams(refinement="newton")
    for rate in (0.0, 1.5):
        with pytest.raises(ValueError, match=r"size_update_rate must be in \(0, 1\]"):
            AtomEbmParams(size_update_rate=rate)


def test_command_line_values_become_parameter_values():
    assert parse_value("2e-3") == 0.002 and parse_value("4") == 4 and parse_value("None") is None
    assert parse_value("((0.6, 0.6),)") == ((0.6, 0.6),) and parse_value("own") == "own"
    params = with_overrides(AtomEbmParams(), {"box_normalization": parse_value("first"), "num_iter": parse_value("3")})
    assert params.box_normalization == "first" and params.num_iter == 3
    assert parse_overrides(["num_iter=4", "iou_window_margin=None", "refinement=none"]) == {
        "num_iter": 4, "iou_window_margin": None, "refinement": "none"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["num_iter"])


def test_checkpoint_resolution_order(tmp_path, monkeypatch):
    explicit, from_env = tmp_path / "a.pth", tmp_path / "b.pth"
    explicit.write_bytes(b"x")
    from_env.write_bytes(b"x")
    monkeypatch.setenv(CHECKPOINT_ENV_VAR, str(from_env))
    assert resolve_checkpoint(explicit) == explicit
    assert resolve_checkpoint(None) == from_env
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        resolve_checkpoint(tmp_path / "missing.pth")
    monkeypatch.setenv(CHECKPOINT_ENV_VAR, str(tmp_path / "gone.pth"))
    with pytest.raises(FileNotFoundError, match="ATOM_EBM_CHECKPOINT"):
        resolve_checkpoint(None)
    monkeypatch.delenv(CHECKPOINT_ENV_VAR)
    monkeypatch.setattr("trackers.atom_ebm.weights.bundled_model_path", lambda: tmp_path / "none.pth")
    with pytest.raises(FileNotFoundError, match="--checkpoint.*ATOM_EBM_CHECKPOINT.*none.pth"):
        resolve_checkpoint(None)
