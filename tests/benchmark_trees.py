"""Tiny synthetic benchmark trees (a bright textured square moving over a noisy background).

Used by the tests and smoke checks of the loaders, runners and packer without downloading a benchmark:
``write_video`` writes JPEG frames and returns the true 0-based boxes; ``make_uav123_tree`` and
``make_trackingnet_tree`` lay them out like the real releases.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ltr.utils.box_io import format_boxes
from ltr.utils.files import atomic_write_text


def square_boxes(num_frames: int, size: tuple[int, int] = (96, 72), side: int = 18, seed: int = 0) -> np.ndarray:
    """0-based (x, y, w, h) boxes of a square moving with constant velocity and bouncing off the borders."""
    rng = np.random.default_rng(seed)
    width, height = size
    position = rng.uniform([4, 4], [width - side - 4, height - side - 4])
    velocity = rng.choice([-2.0, -1.5, 1.5, 2.0], size=2)
    boxes = np.zeros((num_frames, 4))
    for index in range(num_frames):
        boxes[index] = (round(position[0]), round(position[1]), side, side)
        position = position + velocity
        for axis, limit in ((0, width - side - 1), (1, height - side - 1)):
            if not 1 <= position[axis] <= limit:
                velocity[axis] = -velocity[axis]
                position[axis] = np.clip(position[axis], 1, limit)
    return boxes


def write_video(folder: str | os.PathLike, boxes: np.ndarray, size: tuple[int, int] = (96, 72), name_format: str = "{:06d}.jpg",
                first_number: int = 1, seed: int = 0) -> list[Path]:
    """Write one JPEG per box (bright checker square on a dark noisy background); returns the file paths."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    background = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    paths = []
    for index, (x, y, w, h) in enumerate(np.asarray(boxes, dtype=int)):
        image = background.copy()
        checker = (np.indices((h, w)).sum(axis=0) // 3 % 2).astype(np.uint8)
        image[y:y + h, x:x + w] = np.stack([200 + 55 * checker, 160 + 60 * checker, 40 + 0 * checker], axis=-1)
        path = folder / name_format.format(first_number + index)
        if not cv2.imwrite(str(path), image):
            raise OSError(f"cannot write {path}")
        paths.append(path)
    return paths


def make_uav123_tree(root: str | os.PathLike, lengths: dict[str, int], subdir: str = "UAV123_10fps") -> dict[str, np.ndarray]:
    """UAV123-style tree with the given sequences (names from the real table); returns 0-based true boxes.

    Annotation files use the release's 1-based convention (x + 1, y + 1).
    """
    root = Path(root)
    truth = {}
    for seed, (name, length) in enumerate(sorted(lengths.items())):
        boxes = square_boxes(length, seed=seed)
        write_video(root / "data_seq" / subdir / name, boxes, seed=seed)
        annotation = boxes.copy()
        annotation[:, :2] += 1
        atomic_write_text(root / "anno" / subdir / f"{name}.txt", format_boxes(annotation, decimals=0))
        truth[name] = boxes
    return truth


def make_trackingnet_tree(root: str | os.PathLike, lengths: dict[str, int]) -> dict[str, np.ndarray]:
    """TrackingNet TEST tree (frames ``0.jpg ...``, anno with the first box only); returns 0-based true boxes."""
    root = Path(root)
    truth = {}
    for seed, (name, length) in enumerate(sorted(lengths.items())):
        boxes = square_boxes(length, seed=seed + 100)
        write_video(root / "TEST" / "frames" / name, boxes, name_format="{:d}.jpg", first_number=0, seed=seed)
        atomic_write_text(root / "TEST" / "anno" / f"{name}.txt", format_boxes(boxes[:1], decimals=0))
        truth[name] = boxes
    return truth
