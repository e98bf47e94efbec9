"""OpenCV CSRT / KCF baseline behind the Tracker contract, on a synthetic moving square."""
from __future__ import annotations

import numpy as np
import pytest

from pytracking.evaluation.synthetic import square_boxes, write_video
from pytracking.utils.image_io import read_image
from trackers.opencv_baseline import OpenCVTracker, build_tracker
from trackers.registry import build_tracker as build_registered


def _iou(a, b) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    boxes = square_boxes(15, seed=1)
    paths = write_video(tmp_path_factory.mktemp("square"), boxes, seed=1)
    return boxes, [read_image(p) for p in paths]


@pytest.mark.parametrize("param", ["csrt", "kcf"])
def test_tracks_moving_square(video, param):
    boxes, images = video
    tracker = build_registered("opencv", param)
    tracker.initialize(images[0], boxes[0].tolist())
    for image, truth in zip(images[1:], boxes[1:]):
        output = tracker.track(image)
        assert all(isinstance(v, float) for v in output.box)
        assert output.score == 1.0
        assert _iou(output.box, truth) > 0.6


def test_failure_keeps_last_box_with_zero_score(video):
    boxes, images = video
    tracker = build_tracker(param="kcf")
    tracker.initialize(images[0], boxes[0].tolist())
    last = tracker.track(images[1]).box
    blank = np.full_like(images[0], 128)
    output = tracker.track(blank)
    assert output.score == 0.0 and output.box == last


def test_images_reach_opencv_as_bgr():
    seen = []

    class Recorder:
        def init(self, image, rect):
            seen.append((image.copy(), rect))

        def update(self, image):
            seen.append((image.copy(), None))
            return True, (3, 4, 5, 6)

    tracker = OpenCVTracker("csrt")
    tracker._factory = Recorder
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 0] = 255  # pure red
    tracker.initialize(rgb, (2.4, 3.6, 5.5, 6.2))
    output = tracker.track(rgb)
    assert seen[0][0][0, 0].tolist() == [0, 0, 255]  # red in BGR order
    assert seen[0][1] == (2, 4, 6, 6)
    assert output.box == (3.0, 4.0, 5.0, 6.0) and output.score == 1.0


def test_bad_parameters():
    with pytest.raises(ValueError, match="unknown OpenCV tracker"):
        build_tracker(param="mosse2")
    with pytest.raises(ValueError, match="checkpoint"):
        build_tracker(param="csrt", checkpoint="x.pth")
    with pytest.raises(RuntimeError, match="before initialize"):
        OpenCVTracker("kcf").track(np.zeros((8, 8, 3), np.uint8))
