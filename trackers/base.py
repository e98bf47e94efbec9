"""The one tracker contract used by every runner (run_tracker, run_video, run_webcam, demo).

Images are RGB ``uint8`` numpy arrays of shape (H, W, 3). Boxes are float ``(x, y, w, h)`` in
0-based pixel coordinates of that image, (x, y) being the top-left corner.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class TrackerOutput:
    """Result of one ``Tracker.track`` call.

    Attributes:
        box: (x, y, w, h) float box in image pixels.
        score: confidence of the box (the refined IoU-Net score for ATOM-EBM; higher is better).
        timings: optional per-stage seconds, e.g. {"backbone": 0.01, "classifier": 0.004}.
        info: optional per-frame diagnostics of the tracker, e.g. ATOM-EBM's {"flag": "uncertain", "refined": True}.
    """

    box: tuple[float, float, float, float]
    score: float
    timings: dict[str, float] = field(default_factory=dict)
    info: dict[str, object] = field(default_factory=dict)


def validate_image(image: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``image`` is an (H, W, 3) uint8 array."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        desc = f"{type(image).__name__} {getattr(image, 'shape', '')} {getattr(image, 'dtype', '')}".strip()
        raise ValueError(f"expected an RGB uint8 image of shape (H, W, 3), got {desc}")


def validate_init_box(box: Sequence[float], image_shape: tuple[int, ...]) -> tuple[float, float, float, float]:
    """Check an initial (x, y, w, h) box: four finite numbers, positive size, overlapping the image.

    Returns the box as a tuple of floats; raises ``ValueError`` with the offending values otherwise.
    """
    values = tuple(float(v) for v in box)
    if len(values) != 4:
        raise ValueError(f"init box must have 4 values (x, y, w, h), got {len(values)}: {values}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"init box has non-finite values: {values}")
    x, y, w, h = values
    if w <= 0 or h <= 0:
        raise ValueError(f"init box must have positive width and height, got w={w}, h={h}")
    height, width = image_shape[:2]
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(f"init box {values} lies outside the {width}x{height} image")
    return values


class Tracker(abc.ABC):
    """Single-object tracker: ``initialize`` once on the first frame, then ``track`` every next frame."""

    #: registry name, set by ``trackers.registry.register_tracker``
    name: str = ""

    @abc.abstractmethod
    def initialize(self, image: np.ndarray, box: Sequence[float]) -> None:
        """Start tracking the target inside ``box`` (x, y, w, h; image pixels) in the RGB ``image``."""

    @abc.abstractmethod
    def track(self, image: np.ndarray) -> TrackerOutput:
        """Locate the target in the next RGB ``image``."""
