"""Texture and background sources: scikit-image samples, procedural patterns, user images, random colour maps."""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence as SequenceType

import cv2
import numpy as np

from ltr.dataset.synthetic.params import (
    IMAGE_EXTENSIONS,
    PROCEDURAL_KINDS,
    PROCEDURAL_SIZE,
    PROCEDURAL_VARIANTS,
    SKIMAGE_IMAGES,
)
from ltr.utils.image_io import read_image

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def skimage_images() -> tuple[np.ndarray, ...]:
    """The scikit-image sample images of ``SKIMAGE_IMAGES`` that load offline, as RGB uint8 (cached per process)."""
    import skimage.data

    images = []
    for name in SKIMAGE_IMAGES:
        try:
            image = np.asarray(getattr(skimage.data, name)())
        except Exception as error:  # an image missing from this scikit-image build: use the others
            logger.debug("scikit-image sample '%s' unavailable: %s", name, error)
            continue
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        images.append(np.ascontiguousarray(image[:, :, :3].astype(np.uint8)))
    return tuple(images)


def list_image_files(folders: SequenceType[str | os.PathLike]) -> tuple[str, ...]:
    """Image files (jpg/png/bmp) under the given folders, recursively, sorted.

    Raises:
        FileNotFoundError: a folder does not exist or holds no image.
    """
    files: list[str] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"image folder not found: {folder}")
        found = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if not found:
            raise FileNotFoundError(f"no jpg/png/bmp image under {folder}")
        files.extend(found)
    return tuple(files)


@functools.lru_cache(maxsize=16)
def _user_image(path: str) -> np.ndarray:
    return read_image(path)


@functools.lru_cache(maxsize=len(PROCEDURAL_KINDS) * PROCEDURAL_VARIANTS)
def _procedural_image(kind: str, seed: int) -> np.ndarray:
    """A square RGB uint8 procedural texture of side ``PROCEDURAL_SIZE`` (deterministic in ``(kind, seed)``)."""
    rng = np.random.default_rng([seed, 7])
    size = PROCEDURAL_SIZE
    if kind == "noise":
        image = np.zeros((size, size, 3), np.float32)
        for octave, cells in enumerate((4, 12, 40)):
            coarse = rng.random((cells, cells, 3), dtype=np.float32)
            image += cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC) * np.float32(0.6**octave)
        image -= image.min()
        image *= 255.0 / max(float(image.max()), 1e-6)
        return np.clip(image, 0, 255).astype(np.uint8)
    coordinates = np.arange(size, dtype=np.float32)
    angle = rng.uniform(0, np.pi)
    u = coordinates[None, :] * np.float32(np.cos(angle)) + coordinates[:, None] * np.float32(np.sin(angle))
    if kind == "stripes":
        weight = 0.5 + 0.5 * np.sin(u * np.float32(2 * np.pi / rng.uniform(6, 30)))
    elif kind == "checker":
        v = coordinates[:, None] * np.float32(np.cos(angle)) - coordinates[None, :] * np.float32(np.sin(angle))
        period = np.float32(rng.uniform(8, 40))
        weight = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    else:  # gradient
        weight = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
    colours = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
    image = colours[0] + weight[..., None] * (colours[1] - colours[0])
    return np.clip(image, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Texture:
    """A texture: source (``("real", i)``, ``("user", i)`` or ``(kind, seed)``), canonical->source affine, colour map."""

    source: tuple[str, int]
    canonical_to_source: np.ndarray  # [2, 3]: canonical (u, v) in [-0.5, 0.5]^2 -> source px (continuous)
    colour: np.ndarray  # [3, 4] float32 for cv2.transform


class SourcePool:
    """Texture/background sources: scikit-image samples (``("real", i)``), user images (``("user", i)``) and
    procedural textures (``(kind, seed)``)."""

    def __init__(self, user_images: tuple[str, ...]):
        self.user_images = user_images
        self.num_real = len(skimage_images())
        self.size = self.num_real + len(user_images)

    def image(self, source: tuple[str, int]) -> np.ndarray:
        kind, key = source
        if kind == "real":
            return skimage_images()[key]
        if kind == "user":
            return _user_image(self.user_images[key])
        return _procedural_image(kind, key)

    def source_size(self, source: tuple[str, int]) -> tuple[int, int]:
        """(height, width) of a source without decoding user images (header only)."""
        kind, key = source
        if kind == "real":
            return skimage_images()[key].shape[:2]
        if kind == "user":
            return _user_image_size(self.user_images[key])
        return (PROCEDURAL_SIZE, PROCEDURAL_SIZE)


@functools.lru_cache(maxsize=4096)
def _user_image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read image size of {path}: {error}") from None
    return height, width


def _random_colour(rng: np.random.Generator, strength: float) -> np.ndarray:
    """[3, 4] colour map: per-channel gain, channel mixing and offset, ``strength`` in [0, 1]."""
    mix = np.eye(3) * (1 - strength * rng.uniform(0, 0.6)) + strength * rng.uniform(0, 0.4, size=(3, 3)) * rng.permutation(np.eye(3))
    gain = 1 + strength * rng.uniform(-0.3, 0.3, size=(3, 1))
    offset = strength * rng.uniform(-30, 30, size=(3, 1))
    return np.concatenate([mix * gain, offset], axis=1).astype(np.float32)


def random_texture(rng: np.random.Generator, pool: SourcePool) -> Texture:
    """A texture from the real/user image pool with probability 0.7 (when not empty), else procedural."""
    if pool.size and rng.random() < 0.7:
        key = int(rng.integers(pool.size))
        source = ("real", key) if key < pool.num_real else ("user", key - pool.num_real)
    else:
        source = (str(rng.choice(PROCEDURAL_KINDS)), int(rng.integers(PROCEDURAL_VARIANTS)))
    source_h, source_w = pool.source_size(source)
    # canonical square -> a random, possibly rotated rectangle of the source (borders are reflected when drawing)
    size = rng.uniform(0.15, 0.6) * min(source_h, source_w)
    angle = rng.uniform(-np.pi, np.pi) if rng.random() < 0.5 else 0.0
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rotation @ np.diag([size * rng.uniform(0.8, 1.25), size])
    centre = rng.uniform(0, 1, size=2) * np.array([source_w, source_h])
    colour = _random_colour(rng, strength=float(rng.uniform(0, 1)))
    return Texture(source, np.concatenate([linear, centre[:, None]], axis=1), colour)
