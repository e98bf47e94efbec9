"""Geometry of the procedural scenes: smooth random motion, affine maps, polygons and their masks."""
from __future__ import annotations

import math

import cv2
import numpy as np

from ltr.dataset.synthetic.params import SUBPIXEL_BITS, SUPERSAMPLING


def fold(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect ``x`` into ``[low, high]`` (a triangle wave), keeping step lengths."""
    width = high - low
    if width <= 0:
        return np.full_like(x, low)
    y = np.mod(x - low, 2 * width)
    return low + np.where(y > width, 2 * width - y, y)


def smooth_noise(rng: np.random.Generator, n: int, dims: int, correlation: float) -> np.ndarray:
    """[n, dims] temporally smooth noise with unit standard deviation (Gaussian-filtered white noise)."""
    radius = max(1, int(math.ceil(2.5 * correlation)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / correlation) ** 2)
    kernel /= np.sqrt(np.sum(kernel**2))
    white = rng.standard_normal((n + 2 * radius, dims))
    return np.stack([np.convolve(white[:, d], kernel, mode="valid") for d in range(dims)], axis=1)


def integrate(start: float | np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Positions ``start + sum of steps[1..t]`` for t = 0..n-1 (frame 0 is ``start``)."""
    steps = steps.copy()
    steps[0] = 0
    return start + np.cumsum(steps, axis=0)


def canonical_shape(rng: np.random.Generator, kind: str) -> np.ndarray:
    """Polygon vertices [K, 2] whose bounding box is exactly [-0.5, 0.5]^2."""
    if kind == "ellipse":
        angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    elif kind == "rectangle":
        cut = rng.uniform(0, 0.3)
        points = np.array([[-1 + cut, -1], [1 - cut, -1], [1, -1 + cut], [1, 1 - cut],
                           [1 - cut, 1], [-1 + cut, 1], [-1, 1 - cut], [-1, -1 + cut]])
    elif kind == "polygon":
        angles = np.sort(rng.uniform(0, 2 * np.pi, size=int(rng.integers(4, 9))))
        points = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    elif kind == "star":
        spikes = int(rng.integers(5, 9))
        angles = np.linspace(0, 2 * np.pi, 2 * spikes, endpoint=False) + rng.uniform(0, np.pi)
        radii = np.where(np.arange(2 * spikes) % 2 == 0, 1.0, rng.uniform(0.45, 0.7))
        points = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    else:  # blob: smooth random radius
        angles = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        radii = np.ones_like(angles)
        for harmonic in (2, 3, 4):
            radii += rng.uniform(-0.12, 0.12) * np.cos(harmonic * angles + rng.uniform(0, 2 * np.pi))
        points = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    low, high = points.min(axis=0), points.max(axis=0)
    return ((points - (low + high) / 2) / (high - low)).astype(np.float64)


def pixel_affine(matrix: np.ndarray) -> np.ndarray:
    """Convert a continuous-coordinate affine (pixel i covers [i, i+1)) to OpenCV's pixel-centre convention."""
    linear, offset = matrix[:, :2], matrix[:, 2]
    return np.concatenate([linear, (offset + linear @ np.array([0.5, 0.5]) - 0.5)[:, None]], axis=1)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """2x3 affine ``outer o inner``."""
    return np.concatenate([outer[:, :2] @ inner[:, :2], (outer[:, :2] @ inner[:, 2] + outer[:, 2])[:, None]], axis=1)


def invert(matrix: np.ndarray) -> np.ndarray:
    linear = np.linalg.inv(matrix[:, :2])
    return np.concatenate([linear, (-linear @ matrix[:, 2])[:, None]], axis=1)


def polygon_area(vertices: np.ndarray) -> np.ndarray:
    """Shoelace area of polygons [..., K, 2]."""
    x, y = vertices[..., 0], vertices[..., 1]
    return 0.5 * np.abs(np.sum(x * np.roll(y, -1, axis=-1) - np.roll(x, -1, axis=-1) * y, axis=-1))


def bounding_boxes(vertices: np.ndarray) -> np.ndarray:
    """xywh bounding boxes [..., 4] of polygons [..., K, 2]."""
    low, high = vertices.min(axis=-2), vertices.max(axis=-2)
    return np.concatenate([low, high - low], axis=-1)


def overlap_area(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection area of xywh boxes (broadcasting)."""
    w = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def polygon_mask(vertices: np.ndarray, origin: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """uint8 (h, w) coverage (0..255) of the pixels of a window by a polygon [K, 2] given in image coordinates.

    The polygon is filled at ``SUPERSAMPLING`` x resolution (a sub-pixel is in when its centre is inside) and
    area-averaged, so the coverage of pixel ``(x, y)`` approximates the fraction of ``[x, x+1) x [y, y+1)`` inside.
    """
    factor = SUPERSAMPLING
    fine = np.zeros((size[0] * factor, size[1] * factor), np.uint8)
    points = (vertices - np.asarray(origin, np.float64)) * factor - 0.5
    points = np.round(points * (1 << SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(fine, [points], 255, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    return cv2.resize(fine, (size[1], size[0]), interpolation=cv2.INTER_AREA)
