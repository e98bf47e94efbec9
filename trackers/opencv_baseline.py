"""OpenCV CSRT / KCF trackers behind the ``trackers.base.Tracker`` contract (a baseline needing no model)."""
from __future__ import annotations

import math
import time
from typing import Sequence

import cv2
import numpy as np

from trackers.base import Tracker, TrackerOutput, validate_image, validate_init_box

_FACTORIES = {"csrt": "TrackerCSRT_create", "kcf": "TrackerKCF_create"}


class OpenCVTracker(Tracker):
    """Wraps ``cv2.TrackerCSRT`` or ``cv2.TrackerKCF``.

    OpenCV wants BGR images and integer boxes; this class takes RGB images and float (x, y, w, h) boxes.
    ``score`` is 1.0 when OpenCV reports success and 0.0 otherwise, in which case the last box is kept.
    """

    def __init__(self, kind: str = "csrt"):
        if kind not in _FACTORIES:
            raise ValueError(f"unknown OpenCV tracker '{kind}'; valid: {', '.join(_FACTORIES)}")
        factory = getattr(cv2, _FACTORIES[kind], None) or getattr(getattr(cv2, "legacy", None), _FACTORIES[kind], None)
        if factory is None:
            raise RuntimeError(f"this OpenCV build has no {_FACTORIES[kind]} (install opencv-contrib-python-headless)")
        self.kind = kind
        self._factory = factory
        self._tracker = None
        self._box: tuple[float, float, float, float] | None = None

    def initialize(self, image: np.ndarray, box: Sequence[float]) -> None:
        """Start on the RGB ``image`` with the (x, y, w, h) float ``box`` (rounded to whole pixels for OpenCV)."""
        validate_image(image)
        box = validate_init_box(box, image.shape)
        x, y, w, h = box
        rect = (int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h))))
        self._tracker = self._factory()
        self._tracker.init(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), rect)
        self._box = box

    def track(self, image: np.ndarray) -> TrackerOutput:
        """Track in the next RGB ``image``; returns the float box and 1.0 / 0.0 success score."""
        if self._tracker is None:
            raise RuntimeError("track() called before initialize()")
        validate_image(image)
        start = time.perf_counter()
        ok, rect = self._tracker.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        elapsed = time.perf_counter() - start
        box = tuple(float(v) for v in rect)
        if ok and len(box) == 4 and all(math.isfinite(v) for v in box) and box[2] > 0 and box[3] > 0:
            self._box = box  # type: ignore[assignment]
            score = 1.0
        else:
            score = 0.0
        return TrackerOutput(box=self._box, score=score, timings={"opencv": elapsed})


def build_tracker(*, param: str = "csrt", checkpoint: str | None = None, device: str | None = None) -> OpenCVTracker:
    """Registry builder: ``param`` is ``"csrt"`` (also ``"default"``) or ``"kcf"``; ``device`` is not used."""
    if checkpoint is not None:
        raise ValueError("the opencv tracker takes no checkpoint")
    return OpenCVTracker("csrt" if param == "default" else param)
