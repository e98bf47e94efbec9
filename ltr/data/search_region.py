"""The square search region around a target: one geometry value for training crops and tracking crops.

Convention: continuous image coordinates in which pixel ``i`` covers [i, i + 1) (its centre is i + 0.5); a box
(x, y, w, h) covers [x, x + w) x [y, y + h). A region of side ``side`` crop px centred at ``center`` with ``scale``
image px per crop px maps crop coordinate u to image coordinate ``center + (u - side / 2) * scale``, the same affine
map for points and box corners, in both directions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SearchRegion:
    """A ``side`` x ``side`` crop centred at ``center`` (x, y; image px) with ``scale`` image px per crop px."""

    center: tuple[float, float]
    scale: float
    side: int

    @classmethod
    def around(cls, center: tuple[float, float], target_size: tuple[float, float], search_area_factor: float,
               side: int) -> SearchRegion:
        """The region centred at ``center`` covering a square of area ``search_area_factor**2 * w * h``."""
        w, h = target_size
        return cls((float(center[0]), float(center[1])), math.sqrt(w * h) * search_area_factor / side, int(side))

    @property
    def image_side(self) -> float:
        """Side of the covered square in image px."""
        return self.side * self.scale

    def crop(self, image: np.ndarray, antialias: bool = True) -> np.ndarray:
        """The (side, side, C) uint8 crop: bilinear sampling, the border replicated outside the image.

        With ``antialias``, a region shrunk 2x or more is first reduced by the integer factor with area averaging
        (the tracker's crops); without, the image is sampled bilinearly as it is (the training crops).
        """
        height, width = image.shape[:2]
        factor = max(1, int(self.scale)) if antialias else 1
        if factor > 1 and min(width, height) // factor >= 2:
            image = cv2.resize(image, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
            fx, fy = width / (width // factor), height / (height // factor)
        else:
            fx = fy = 1.0
        # crop pixel u (centre u + 0.5) -> image coordinate X -> (reduced) image index X / f - 0.5
        cx, cy = self.center
        matrix = np.array([[self.scale / fx, 0.0, (cx + (0.5 - self.side / 2) * self.scale) / fx - 0.5],
                           [0.0, self.scale / fy, (cy + (0.5 - self.side / 2) * self.scale) / fy - 0.5]])
        return cv2.warpAffine(image, matrix, (self.side, self.side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)

    def to_crop(self, boxes: np.ndarray) -> np.ndarray:
        """Image (x, y, w, h) boxes [..., 4] -> crop boxes [..., 4] (crop px)."""
        boxes = np.asarray(boxes, dtype=np.float64)
        corner = (boxes[..., :2] - np.asarray(self.center)) / self.scale + self.side / 2
        return np.concatenate((corner, boxes[..., 2:] / self.scale), axis=-1)

    def to_image(self, boxes: np.ndarray) -> np.ndarray:
        """Crop (x, y, w, h) boxes [..., 4] -> image boxes [..., 4] (inverse of :meth:`to_crop`)."""
        boxes = np.asarray(boxes, dtype=np.float64)
        corner = (boxes[..., :2] - self.side / 2) * self.scale + np.asarray(self.center)
        return np.concatenate((corner, boxes[..., 2:] * self.scale), axis=-1)
