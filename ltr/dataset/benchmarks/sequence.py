"""The ``Sequence`` type shared by evaluation loaders, training data sets and runners."""
from __future__ import annotations

from typing import Callable
from typing import Sequence as SequenceType

import numpy as np


class FrameList(SequenceType[str]):
    """Lazy list of frame paths ``pattern.format(i)`` for ``i`` in ``frame_ids``.

    Avoids materialising millions of path strings for large training sets.
    Example: ``FrameList("/data/bike1/{:06d}.jpg", range(1, 3086))``.
    """

    def __init__(self, pattern: str, frame_ids: SequenceType[int]):
        self.pattern = pattern
        self.frame_ids = frame_ids

    def __len__(self) -> int:
        return len(self.frame_ids)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self.pattern.format(i) for i in self.frame_ids[index]]
        return self.pattern.format(self.frame_ids[index])


class Sequence:
    """One video with per-frame ground truth.

    Attributes:
        name: sequence name, unique within its data set (used for result file names).
        frames: indexable list of image paths, one per frame.
        dataset: data-set key, e.g. ``"uav123"``, ``"otb"``, ``"trackingnet"``.
        object_class: optional class label.
        box_origin: pixel coordinate of the image's top-left pixel in ``ground_truth``: 1 for benchmarks
            annotated in the Matlab convention (OTB, UAV123, LaSOT), 0 otherwise. Trackers work in 0-based
            pixels, so runners subtract it from (x, y) before ``initialize`` and add it back to the results;
            ground truth and result files therefore stay in the benchmark's own convention.

    ``ground_truth`` is float64 [N, 4] (x, y, w, h) with NaN rows where the target is absent; for
    test splits with hidden labels (TrackingNet, GOT-10k test) only row 0 is known and the rest is NaN.
    It may be given directly or as a zero-argument loader called on first access.
    ``target_visible`` is an optional bool [N] (False: absent / fully occluded / out of view).
    """

    def __init__(
        self,
        name: str,
        frames: SequenceType[str],
        ground_truth: np.ndarray | Callable[[], np.ndarray],
        dataset: str,
        target_visible: np.ndarray | Callable[[], np.ndarray] | None = None,
        object_class: str | None = None,
        box_origin: float = 0.0,
    ):
        self.name = name
        self.frames = frames
        self.dataset = dataset
        self.object_class = object_class
        self.box_origin = float(box_origin)
        self._ground_truth = ground_truth
        self._target_visible = target_visible

    @property
    def ground_truth(self) -> np.ndarray:
        if callable(self._ground_truth):
            self._ground_truth = np.asarray(self._ground_truth(), dtype=np.float64).reshape(-1, 4)
        return self._ground_truth

    @property
    def target_visible(self) -> np.ndarray | None:
        if callable(self._target_visible):
            self._target_visible = np.asarray(self._target_visible(), dtype=bool)
        return self._target_visible

    @property
    def init_box(self) -> np.ndarray:
        """The first-frame box (x, y, w, h) given to the tracker."""
        return self.ground_truth[0]

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"Sequence(name={self.name!r}, dataset={self.dataset!r}, frames={len(self.frames)})"


def back_and_forth(length: int, passes: int) -> np.ndarray:
    """Frame indices of a clip of ``length`` frames played ``passes`` times, alternately forward and backward
    (0, .., N-1, N-2, .., 0, 1, ..; the turning frames are not repeated): ``passes * (N - 1) + 1`` indices. A longer
    test of the same frames, where a tracker must keep the target through every appearance change again and again."""
    if length < 1 or passes < 1:
        raise ValueError(f"need length >= 1 and passes >= 1, got {length} and {passes}")
    forward = np.arange(length)
    return np.concatenate([forward] + [(forward[::-1] if turn % 2 else forward)[1:] for turn in range(1, passes)])
