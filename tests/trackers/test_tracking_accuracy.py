"""The bundled model tracks a target with exact ground truth: a natural-image patch that moves and grows over a
smooth random background (procedural, so no shared data is needed).

Measured on this sequence (12 frames, the target grows 3.5 % per frame, 1.385x in all): the bundled ``default``
tracker 0.91 mean IoU, the classifier alone (``no_refine``, which keeps the first size) 0.70, the first box kept
still 0.13. The floors sit between them, so a tracker that does not follow the target, or a refinement that does
not follow its size, fails.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from ltr.admin.loading import load_network
from ltr.utils.image_io import read_image
from pytracking.analysis.metrics import iou_continuous
from pytracking.demo import demo_sequence
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import bundled_model_path

NUM_FRAMES = 12
GROWTH_PER_FRAME = 0.035
#: lighter first-frame training than the parameter sets' (the machine running tests is small)
LIGHT_INIT = dict(init_gn_iter=1, init_cg_iter=3, augment_blur=(), augment_rotation=(10.0,), num_dropout_samples=2)


def growing_target_sequence(size: tuple[int, int] = (320, 240), seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames and 0-based (x, y, w, h) ground truth: a 36 x 54 px patch of the demo's first frame, pasted at integer
    positions moving (6, 3) px per frame and resized by ``1 + GROWTH_PER_FRAME * i`` (rounded to whole pixels)."""
    rng = np.random.default_rng(seed)
    width, height = size
    background = cv2.resize((rng.random((height // 8, width // 8, 3)) * 255).astype(np.uint8), (width, height),
                            interpolation=cv2.INTER_CUBIC)
    patch = read_image(demo_sequence().frames[0])[40:140, 150:210]
    frames, boxes = [], []
    for index in range(NUM_FRAMES):
        scale = 1.0 + GROWTH_PER_FRAME * index
        resized = cv2.resize(patch, (round(36 * scale), round(54 * scale)), interpolation=cv2.INTER_AREA)
        x, y = 60 + 6 * index, 60 + 3 * index
        frame = background.copy()
        frame[y:y + resized.shape[0], x:x + resized.shape[1]] = resized
        frames.append(frame)
        boxes.append((x, y, resized.shape[1], resized.shape[0]))
    return frames, np.array(boxes, dtype=np.float64)


@pytest.fixture(scope="module")
def sequence():
    return growing_target_sequence()


@pytest.fixture(scope="module")
def network():
    return load_network(bundled_model_path())


def _track(network, param: str, frames: list[np.ndarray], init_box: np.ndarray) -> tuple[AtomEbmTracker, np.ndarray]:
    tracker = AtomEbmTracker(network, with_overrides(get_parameters(param), {**LIGHT_INIT, "seed": 0}), "cpu")
    tracker.initialize(frames[0], init_box.tolist())
    return tracker, np.array([init_box, *(tracker.track(frame).box for frame in frames[1:])])


def test_default_follows_a_moving_growing_target(network, sequence):
    frames, truth = sequence
    static_iou = iou_continuous(np.repeat(truth[:1], NUM_FRAMES, axis=0), truth)[1:].mean()
    tracker, boxes = _track(network, "default", frames, truth[0])
    assert tracker.refining, "the first-frame self-check switched refinement off on a clean target"
    iou = iou_continuous(boxes, truth)[1:]
    assert static_iou < 0.2
    assert iou.mean() >= 0.8, iou
    assert iou.min() >= 0.6, iou
    final_area_ratio = boxes[-1, 2] * boxes[-1, 3] / (truth[-1, 2] * truth[-1, 3])
    assert 0.8 <= final_area_ratio <= 1.2, (boxes[-1], truth[-1])  # the size grew with the target (1.92x in area)


def test_classifier_alone_follows_the_position_but_keeps_the_size(network, sequence):
    frames, truth = sequence
    _, boxes = _track(network, "no_refine", frames, truth[0])
    np.testing.assert_array_equal(boxes[:, 2:], np.repeat(truth[:1, 2:], NUM_FRAMES, axis=0))
    centre_error = np.linalg.norm(boxes[:, :2] + boxes[:, 2:] / 2 - truth[:, :2] - truth[:, 2:] / 2, axis=1)
    assert centre_error.max() < 12.0, centre_error  # the target moves 6.7 px per frame, 74 px in all
