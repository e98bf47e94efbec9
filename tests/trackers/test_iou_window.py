"""IoU features on a window of the backbone maps: exact scores inside the window, detected exits, tracker equality."""
from __future__ import annotations

import pytest
import torch

from ltr.models.bbreg.atom import atom_resnet18
from ltr.models.bbreg.iou_predictor import IoUPredictor
from ltr.utils.image_io import read_image
from pytracking.demo import demo_sequence, zero_based
from trackers.atom_ebm.iou_window import feature_window
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return atom_resnet18().eval().requires_grad_(False)


def _window_scores(head, predictor, feats, window, boxes):
    iou_feats = window.crop_outputs(head.get_iou_feat(window.crop_inputs(feats)))
    offset = torch.tensor([*window.offset, 0.0, 0.0])
    return predictor.score(predictor.prepare(iou_feats), (boxes - offset)[None])[0]


@pytest.mark.parametrize("center", [(150.0, 140.0), (30.0, 260.0)])  # interior window; window at two map borders
def test_windowed_scores_equal_full_map_scores(net, center):
    torch.manual_seed(1)
    head = net.bb_regressor
    feats = [torch.rand(1, 128, 36, 36), torch.rand(1, 256, 18, 18)]
    modulation = head.get_modulation(feats, torch.tensor([[120.0, 110.0, 50.0, 60.0]]))
    predictor = IoUPredictor(head, modulation)
    cx, cy = center
    boxes = torch.tensor([[cx - 20, cy - 25, 40.0, 50.0], [cx - 28, cy - 20, 50.0, 44.0], [cx - 10, cy - 30, 24.0, 58.0]])
    lower = (float((boxes[:, 0]).min()), float(boxes[:, 1].min()))
    upper = (float((boxes[:, 0] + boxes[:, 2]).max()), float((boxes[:, 1] + boxes[:, 3]).max()))
    window = feature_window(lower, upper, 4.0, 18, 18)
    assert window.covers(lower, upper)
    assert (window.row1 - window.row0) * (window.col1 - window.col0) < 18 * 18 / 2  # a real saving
    expected = head.predict_iou(modulation, head.get_iou_feat(feats), boxes[None])[0]  # full maps, public API
    torch.testing.assert_close(_window_scores(head, predictor, feats, window, boxes), expected, rtol=1e-5, atol=1e-5)


def test_box_leaving_the_window_is_detected_and_would_be_wrong(net):
    torch.manual_seed(2)
    head = net.bb_regressor
    feats = [torch.rand(1, 128, 36, 36), torch.rand(1, 256, 18, 18)]
    modulation = head.get_modulation(feats, torch.tensor([[120.0, 110.0, 50.0, 60.0]]))
    predictor = IoUPredictor(head, modulation)
    window = feature_window((120.0, 120.0), (170.0, 170.0), 0.0, 18, 18)
    # 16 * col0 = 112 is the left limit of exact pooling; 16 * (col1 - 1) the right one
    left, right = 16.0 * window.col0, 16.0 * (window.col1 - 1)
    assert window.covers((left, left), (right, right))
    assert not window.covers((left - 1.0, left), (right, right))
    assert not window.covers((left, left), (right, right + 1.0))
    outside = torch.tensor([[left - 12.0, 130.0, 40.0, 30.0]])
    expected = head.predict_iou(modulation, head.get_iou_feat(feats), outside[None])[0]
    assert not torch.allclose(_window_scores(head, predictor, feats, window, outside), expected, rtol=1e-4, atol=1e-4)


def test_tracker_boxes_equal_with_and_without_window(net):
    demo = demo_sequence()
    frames = [read_image(path) for path in demo.frames[:4]]
    init_box = zero_based(demo.ground_truth, demo)[0]
    light = dict(init_gn_iter=1, init_cg_iter=3, augment_blur=(), augment_rotation=(10.0,), num_dropout_samples=2, seed=5)
    outputs = {}
    for margin in (0.25, None):
        tracker = AtomEbmTracker(net, with_overrides(get_parameters("default"), {**light, "iou_window_margin": margin}), "cpu")
        tracker.initialize(frames[0], init_box)
        outputs[margin] = [tracker.track(frame) for frame in frames[1:]]
    for windowed, full in zip(outputs[0.25], outputs[None]):
        torch.testing.assert_close(torch.tensor(windowed.box), torch.tensor(full.box), rtol=1e-4, atol=1e-3)
        assert windowed.score == pytest.approx(full.score, rel=1e-4, abs=1e-5)
