"""First-frame data augmentation of the classifier's training crops (ATOM's initial samples).

Every transform is applied to a crop twice the sample size around the target and then a sample-size window is
cut out, moved by an integer shift, so that the target stays inside and its displacement is known exactly.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from trackers.atom_ebm.params import AtomEbmParams


def _window(expanded: np.ndarray, size: int, shift: tuple[int, int]) -> np.ndarray:
    """Cut the ``size`` window whose content is moved by ``shift`` (dx, dy) from the centre of ``expanded``."""
    margin = (expanded.shape[0] - size) // 2
    top, left = margin - shift[1], margin - shift[0]
    return expanded[top:top + size, left:left + size]


def _rotate_offset(offset: tuple[float, float], angle_deg: float) -> tuple[float, float]:
    """Where a point at ``offset`` (dx, dy) from the centre goes under cv2's rotation by ``angle_deg``."""
    angle = math.radians(angle_deg)
    dx, dy = offset
    # cv2.getRotationMatrix2D rotates counter-clockwise on screen (y down): x' = cos*x + sin*y, y' = -sin*x + cos*y
    return (math.cos(angle) * dx + math.sin(angle) * dy, -math.sin(angle) * dx + math.cos(angle) * dy)


def augmented_samples(expanded: np.ndarray, size: int, target_offset: tuple[float, float], params: AtomEbmParams,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Augmented sample crops and the target's displacement from each crop's centre.

    Order: identity, the fixed shifts, flip, blurs, rotations (flip/blur/rotation windows get a random shift of
    up to +-augment_random_shift/2 of the sample size per axis).

    Args:
        expanded: (2*size, 2*size, 3) crop centred like the sample crop (same scale).
        size: sample side in pixels.
        target_offset: target centre minus crop centre (dx, dy) in crop pixels.
        params: augmentation settings.
        rng: random generator for the random shifts.

    Returns:
        crops (T, size, size, 3) with the dtype of ``expanded``, offsets (T, 2) float64 (dx, dy) crop pixels.
    """
    if expanded.shape[0] != 2 * size or expanded.shape[1] != 2 * size:
        raise ValueError(f"expanded crop must be {2 * size}x{2 * size}, got {expanded.shape[:2]}")
    crops: list[np.ndarray] = []
    offsets: list[tuple[float, float]] = []
    max_shift = size // 2

    def add(image: np.ndarray, offset: tuple[float, float], shift: tuple[int, int]) -> None:
        shift = (int(np.clip(shift[0], -max_shift, max_shift)), int(np.clip(shift[1], -max_shift, max_shift)))
        crops.append(_window(image, size, shift))
        offsets.append((offset[0] + shift[0], offset[1] + shift[1]))

    def random_shift() -> tuple[int, int]:
        return tuple(int(round(v)) for v in (rng.random(2) - 0.5) * params.augment_random_shift * size)

    add(expanded, target_offset, (0, 0))
    for rel_x, rel_y in params.augment_shift:
        add(expanded, target_offset, (int(round(rel_x * size / 2)), int(round(rel_y * size / 2))))
    if params.augment_flip:
        add(np.ascontiguousarray(expanded[:, ::-1]), (-target_offset[0], target_offset[1]), random_shift())
    for sigma_x, sigma_y in params.augment_blur:
        blurred = cv2.GaussianBlur(expanded, (0, 0), sigmaX=sigma_x, sigmaY=sigma_y, borderType=cv2.BORDER_REPLICATE)
        add(blurred, target_offset, random_shift())
    center = (expanded.shape[1] / 2 - 0.5, expanded.shape[0] / 2 - 0.5)
    for angle in params.augment_rotation:
        matrix = cv2.getRotationMatrix2D(center, angle, 1.0)
        rotated = cv2.warpAffine(expanded, matrix, (expanded.shape[1], expanded.shape[0]), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        add(rotated, _rotate_offset(target_offset, angle), random_shift())
    return np.stack(crops), np.asarray(offsets, dtype=np.float64)
