"""Image transforms of the training pipeline (numpy / OpenCV, one sample at a time): box jitter, the training crop
region (a ``ltr.data.search_region.SearchRegion``), flips and grey conversion.

Coordinates are continuous 0-based pixels: pixel ``i`` covers ``[i, i + 1)``; boxes are (x, y, w, h).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from ltr.data.search_region import SearchRegion


def check_box(box: np.ndarray, what: str = "box") -> np.ndarray:
    """``box`` as float64 [4] xywh; ValueError unless it is finite with w > 0 and h > 0."""
    box = np.asarray(box, dtype=np.float64).reshape(-1)
    if box.shape != (4,) or not np.isfinite(box).all() or box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"{what} must be a finite (x, y, w, h) box with w, h > 0, got {box.tolist()}")
    return box


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """ValueError unless ``image`` is an RGB uint8 (H, W, 3) array with H, W > 0."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
        shape = getattr(image, "shape", None)
        raise ValueError(f"{what} must be an RGB uint8 (H, W, 3) array, got {type(image).__name__} {shape} {getattr(image, 'dtype', '')}")
    return image


def jitter_box(box: np.ndarray, center_jitter: float, scale_jitter: float, rng: np.random.Generator) -> np.ndarray:
    """Randomly moved and rescaled copy of a [4] xywh box (the box the crop is centred on, not the label).

    Size: ``wh * exp(N(0, 1) * scale_jitter)`` per axis; centre: ``+ sqrt(w'h') * center_jitter * U(-0.5, 0.5)``
    per axis. With both factors 0 the box is returned unchanged and no random number is drawn.
    """
    box = check_box(box)
    if center_jitter == 0 and scale_jitter == 0:
        return box.copy()
    size = box[2:] * np.exp(rng.standard_normal(2) * scale_jitter)
    max_offset = math.sqrt(size[0] * size[1]) * center_jitter
    centre = box[:2] + 0.5 * box[2:] + max_offset * (rng.random(2) - 0.5)
    return np.concatenate([centre - 0.5 * size, size])


def crop_region(center_box: np.ndarray, search_area_factor: float, output_size: int) -> SearchRegion:
    """The training crop around a [4] xywh box: an image square of side ``ceil(sqrt(w h) * search_area_factor)`` px
    with its corner rounded to whole pixels (as the reference training does), resized to ``output_size`` px."""
    box = check_box(center_box, "crop centre box")
    side = max(1, math.ceil(math.sqrt(box[2] * box[3]) * search_area_factor))
    x0 = round(box[0] + 0.5 * box[2] - 0.5 * side)
    y0 = round(box[1] + 0.5 * box[3] - 0.5 * side)
    return SearchRegion((x0 + side / 2, y0 + side / 2), side / output_size, int(output_size))


def flip_box_horizontally(boxes: np.ndarray, width: float) -> np.ndarray:
    """xywh boxes [..., 4] mirrored in an image of the given width: x -> width - x - w."""
    boxes = np.array(boxes, dtype=np.float64)
    boxes[..., 0] = width - boxes[..., 0] - boxes[..., 2]
    return boxes


def to_grayscale_rgb(image: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> its luminance replicated on 3 channels."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.repeat(gray[:, :, None], 3, axis=2)
