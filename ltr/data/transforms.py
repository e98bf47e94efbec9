"""Crop geometry and image transforms of the training pipeline (numpy / OpenCV, one sample at a time).

Coordinates are continuous 0-based pixels: pixel ``i`` covers ``[i, i + 1)``; boxes are (x, y, w, h).
A square crop of side ``side`` px with top-left corner ``(x0, y0)`` (integers) resized to ``output_size`` px
maps an image point ``p`` to ``(p - (x0, y0)) * output_size / side``. ``crop_image`` samples exactly this
map (bilinear, out-of-image pixels replicate the border), so crop-frame boxes and pixels agree exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class CropGeometry:
    """A square image region ``[x0, x0 + side) x [y0, y0 + side)`` resized to ``output_size`` x ``output_size``."""

    x0: int
    y0: int
    side: int
    output_size: int

    @property
    def scale(self) -> float:
        """Crop pixels per image pixel."""
        return self.output_size / self.side


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


def crop_geometry(center_box: np.ndarray, search_area_factor: float, output_size: int) -> CropGeometry:
    """Square crop of side ``ceil(sqrt(w h) * search_area_factor)`` centred on a [4] xywh box (corner rounded)."""
    box = check_box(center_box, "crop centre box")
    side = max(1, math.ceil(math.sqrt(box[2] * box[3]) * search_area_factor))
    x0 = round(box[0] + 0.5 * box[2] - 0.5 * side)
    y0 = round(box[1] + 0.5 * box[3] - 0.5 * side)
    return CropGeometry(int(x0), int(y0), int(side), int(output_size))


def crop_image(image: np.ndarray, geometry: CropGeometry) -> np.ndarray:
    """The crop as uint8 (output_size, output_size, C): bilinear resampling, border replication outside the image.

    Cost depends on the output size only (``cv2.resize`` of the region when it lies inside the image, else one
    ``cv2.warpAffine`` with the same pixel map), however large or far outside the crop is.
    """
    height, width = image.shape[:2]
    x0, y0, side, size = geometry.x0, geometry.y0, geometry.side, geometry.output_size
    if x0 >= 0 and y0 >= 0 and x0 + side <= width and y0 + side <= height:  # same map, faster
        return cv2.resize(image[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_LINEAR)
    scale = geometry.scale
    # OpenCV maps pixel centres: crop index j <-> image index (j + 0.5) / scale + x0 - 0.5
    matrix = np.array([
        [scale, 0.0, (0.5 - geometry.x0) * scale - 0.5],
        [0.0, scale, (0.5 - geometry.y0) * scale - 0.5],
    ])
    return cv2.warpAffine(
        image, matrix, (geometry.output_size, geometry.output_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
    )


def box_to_crop(boxes: np.ndarray, geometry: CropGeometry) -> np.ndarray:
    """Image xywh boxes [..., 4] -> crop xywh boxes [..., 4]."""
    boxes = np.asarray(boxes, dtype=np.float64)
    origin = np.array([geometry.x0, geometry.y0], dtype=np.float64)
    return np.concatenate([(boxes[..., :2] - origin) * geometry.scale, boxes[..., 2:] * geometry.scale], axis=-1)


def box_from_crop(boxes: np.ndarray, geometry: CropGeometry) -> np.ndarray:
    """Crop xywh boxes [..., 4] -> image xywh boxes [..., 4] (inverse of ``box_to_crop``)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    origin = np.array([geometry.x0, geometry.y0], dtype=np.float64)
    return np.concatenate([boxes[..., :2] / geometry.scale + origin, boxes[..., 2:] / geometry.scale], axis=-1)


def flip_box_horizontally(boxes: np.ndarray, width: float) -> np.ndarray:
    """xywh boxes [..., 4] mirrored in an image of the given width: x -> width - x - w."""
    boxes = np.array(boxes, dtype=np.float64)
    boxes[..., 0] = width - boxes[..., 0] - boxes[..., 2]
    return boxes


def to_grayscale_rgb(image: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> its luminance replicated on 3 channels."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return np.repeat(gray[:, :, None], 3, axis=2)
