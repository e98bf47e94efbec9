"""Square search-region crops and the mapping between image and crop coordinates.

Convention: continuous coordinates in which pixel ``i`` covers [i, i + 1) (its centre is i + 0.5); a box
(x, y, w, h) covers [x, x + w) x [y, y + h) and has its centre at (x + w / 2, y + h / 2). A crop of side ``size``
centred at ``center`` with ``scale`` image pixels per crop pixel maps crop coordinate u to image coordinate
``center + (u - size / 2) * scale`` (the same affine map for points and box corners).
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def search_scale(target_size: tuple[float, float], search_area_scale: float, sample_size: int) -> float:
    """Image pixels per crop pixel so the crop covers a square of area ``search_area_scale**2 * w * h``."""
    w, h = target_size
    return math.sqrt(w * h) * search_area_scale / sample_size


def extract_crop(image: np.ndarray, center: tuple[float, float], scale: float, size: int) -> np.ndarray:
    """Crop a ``size`` x ``size`` square centred at ``center`` (x, y) with ``scale`` image px per crop px.

    Parts outside the image replicate the border. When shrinking by 2x or more the image is first reduced by
    the integer factor with area averaging (anti-aliasing), then sampled bilinearly.

    Args:
        image: (H, W, 3) uint8.
        center: crop centre (x, y) in continuous image coordinates.
        scale: image pixels per crop pixel (> 0).
        size: output side in pixels.

    Returns:
        (size, size, 3) uint8 crop.
    """
    height, width = image.shape[:2]
    factor = max(1, int(scale))
    if factor > 1 and min(width, height) // factor >= 2:
        small = cv2.resize(image, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
        fx, fy = width / (width // factor), height / (height // factor)
    else:
        small, fx, fy = image, 1.0, 1.0
    # crop pixel u (centre u + 0.5) -> image coordinate X -> reduced-image index X / f - 0.5
    cx, cy = center
    matrix = np.array(
        [[scale / fx, 0.0, (cx + (0.5 - size / 2) * scale) / fx - 0.5],
         [0.0, scale / fy, (cy + (0.5 - size / 2) * scale) / fy - 0.5]],
        dtype=np.float64,
    )
    return cv2.warpAffine(small, matrix, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def image_box_to_crop(box: tuple[float, float, float, float], center: tuple[float, float], scale: float,
                      size: int) -> tuple[float, float, float, float]:
    """Map an image box (x, y, w, h) into the crop taken at ``center``/``scale``/``size`` (crop px)."""
    x, y, w, h = box
    return ((x - center[0]) / scale + size / 2, (y - center[1]) / scale + size / 2, w / scale, h / scale)


def crop_box_to_image(box: tuple[float, float, float, float], center: tuple[float, float], scale: float,
                      size: int) -> tuple[float, float, float, float]:
    """Inverse of ``image_box_to_crop``."""
    x, y, w, h = box
    return ((x - size / 2) * scale + center[0], (y - size / 2) * scale + center[1], w * scale, h * scale)


class ImageNormalizer:
    """uint8 (B, H, W, 3) or (H, W, 3) RGB arrays -> ImageNet-normalised float tensors [B, 3, H, W] on a device."""

    def __init__(self, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1) * 255.0
        self.inv_std = 1.0 / (torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1) * 255.0)

    def __call__(self, images: np.ndarray) -> torch.Tensor:
        batch = images[None] if images.ndim == 3 else images
        tensor = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, non_blocking=True)
        tensor = tensor.permute(0, 3, 1, 2).float()
        return (tensor - self.mean) * self.inv_std
