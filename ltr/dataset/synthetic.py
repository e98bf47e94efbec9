"""Procedural tracking sequences with exact ground truth: training data and test fixtures.

Every sequence is a deterministic function of ``(seed, sequence index)``. A sequence shows a textured
target (a random polygon: ellipse, rectangle, convex polygon, star or blob, filled with a crop of a real
image or a procedural texture) that moves, scales, changes aspect ratio, optionally rotates and wobbles
(non-rigid vertex motion), in front of a real or procedural background seen by a panning/zooming camera,
among similar-looking distractors and behind passing occluders.

Only the trajectories are computed when a sequence is first touched (``sequence_info`` is cheap); frames are
rendered on request, one at a time, with cost proportional to the image area (a few ms per 640x480 frame).

Geometry convention: continuous 0-based pixel coordinates, pixel ``i`` covers ``[i, i + 1)``. The ground-truth
box of a frame is the axis-aligned bounding box of the target polygon (occluded parts included), so the
rasterised target mask has that bounding box up to pixel rounding.

Texture sources: the scikit-image sample images that ship inside its wheel (loaded offline, cached per
process), procedural noise / stripes / checkerboards / gradients, and optionally the images of user folders.
"""
from __future__ import annotations

import functools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence as SequenceType

import cv2
import numpy as np
from tqdm import tqdm

from ltr.dataset.base import SequenceInfo, TrainingDataset, check_index
from ltr.utils.box_io import save_boxes
from ltr.utils.files import atomic_write
from ltr.utils.image_io import read_image

logger = logging.getLogger(__name__)

# scikit-image sample images stored inside the wheel (no download needed); gray ones are used as RGB.
SKIMAGE_IMAGES: tuple[str, ...] = (
    "astronaut", "coffee", "chelsea", "rocket", "cat", "hubble_deep_field", "immunohistochemistry", "retina",
    "colorwheel", "camera", "coins", "brick", "grass", "gravel", "moon", "page", "text", "clock", "cell",
)
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_PROCEDURAL_KINDS = ("noise", "stripes", "checker", "gradient")
_SHAPES = ("ellipse", "rectangle", "polygon", "star", "blob")
_SUBPIXEL_BITS = 4
_SUPERSAMPLING = 4
_SCENE_CACHE_SIZE = 1024  # planned scenes kept per process (a few kB each)
_PROCEDURAL_SIZE = 192
_PROCEDURAL_VARIANTS = 64  # per kind; variety also comes from the random crop, rotation and colour map


@dataclass(frozen=True)
class SyntheticParams:
    """Statistics of the generated sequences.

    Attributes:
        num_sequences: number of sequences in the data set.
        sequence_length: frames per sequence.
        short_side: range of the shorter image side in px; the longer side is up to ``max_long_side``.
        max_long_side: cap of the longer image side in px.
        target_size: range of the target size sqrt(w*h) as a fraction of the shorter image side.
        min_target_px: lower bound of the target size sqrt(w*h) in px.
        max_speed: maximum centre motion per frame, in units of the target size sqrt(w*h).
        max_scale_change: maximum |change of log size| per frame.
        max_aspect_change: maximum |change of log(w/h)| per frame.
        rotation_prob: probability that the target rotates in-plane.
        max_rotation_deg: maximum rotation per frame in degrees.
        max_deformation: maximum relative radial wobble of the polygon vertices.
        max_distractors: maximum number of similar-looking objects behind the target.
        max_occluders: maximum number of objects passing in front of the target.
        camera_motion_prob: probability that the background pans / zooms.
        blur_prob: probability that a sequence is slightly blurred (defocus).
        min_visible_fraction: frames where an occluder may hide more than ``1 - min_visible_fraction`` of the
            target (a conservative box-overlap bound) are marked invalid.
        min_inside_fraction: frames where less than this fraction of the target box lies inside the image are
            marked invalid.
    """

    num_sequences: int = 1000
    sequence_length: int = 100
    short_side: tuple[int, int] = (300, 480)
    max_long_side: int = 640
    target_size: tuple[float, float] = (0.03, 0.30)
    min_target_px: float = 10.0
    max_speed: float = 0.3
    max_scale_change: float = 0.04
    max_aspect_change: float = 0.03
    rotation_prob: float = 0.25
    max_rotation_deg: float = 3.0
    max_deformation: float = 0.08
    max_distractors: int = 3
    max_occluders: int = 2
    camera_motion_prob: float = 0.7
    blur_prob: float = 0.2
    min_visible_fraction: float = 0.25
    min_inside_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.num_sequences < 1 or self.sequence_length < 1:
            raise ValueError(f"num_sequences and sequence_length must be >= 1, got {self.num_sequences}, {self.sequence_length}")
        if not 32 <= self.short_side[0] <= self.short_side[1] <= self.max_long_side:
            raise ValueError(f"need 32 <= short_side[0] <= short_side[1] <= max_long_side, got {self.short_side}, {self.max_long_side}")
        if not 0 < self.target_size[0] <= self.target_size[1] <= 0.6:
            raise ValueError(f"target_size must satisfy 0 < low <= high <= 0.6, got {self.target_size}")
        if self.min_target_px < 2 or self.min_target_px > self.target_size[1] * self.short_side[0]:
            raise ValueError(f"min_target_px={self.min_target_px} must be in [2, target_size[1] * short_side[0]]")
        for key in ("rotation_prob", "camera_motion_prob", "blur_prob", "min_visible_fraction", "min_inside_fraction"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"{key} must be in [0, 1], got {getattr(self, key)}")
        for key in ("max_speed", "max_scale_change", "max_aspect_change", "max_rotation_deg", "max_deformation"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        if self.max_distractors < 0 or self.max_occluders < 0:
            raise ValueError("max_distractors and max_occluders must be >= 0")


# ----------------------------------------------------------------------------------------------------------------
# texture sources


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
        found = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in _IMAGE_EXTENSIONS and p.is_file())
        if not found:
            raise FileNotFoundError(f"no jpg/png/bmp image under {folder}")
        files.extend(found)
    return tuple(files)


@functools.lru_cache(maxsize=16)
def _user_image(path: str) -> np.ndarray:
    return read_image(path)


@functools.lru_cache(maxsize=len(_PROCEDURAL_KINDS) * _PROCEDURAL_VARIANTS)
def _procedural_image(kind: str, seed: int) -> np.ndarray:
    """A square RGB uint8 procedural texture of side ``_PROCEDURAL_SIZE`` (deterministic in ``(kind, seed)``)."""
    rng = np.random.default_rng([seed, 7])
    size = _PROCEDURAL_SIZE
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
class _Texture:
    """A texture: source (``("real", i)``, ``("user", i)`` or ``(kind, seed)``), canonical->source affine, colour map."""

    source: tuple[str, int]
    canonical_to_source: np.ndarray  # [2, 3]: canonical (u, v) in [-0.5, 0.5]^2 -> source px (continuous)
    colour: np.ndarray  # [3, 4] float32 for cv2.transform


class _SourcePool:
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
        return (_PROCEDURAL_SIZE, _PROCEDURAL_SIZE)


@functools.lru_cache(maxsize=4096)
def _user_image_size(path: str) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read image size of {path}: {error}") from None
    return height, width


# ----------------------------------------------------------------------------------------------------------------
# geometry helpers


def _fold(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Reflect ``x`` into ``[low, high]`` (a triangle wave), keeping step lengths."""
    width = high - low
    if width <= 0:
        return np.full_like(x, low)
    y = np.mod(x - low, 2 * width)
    return low + np.where(y > width, 2 * width - y, y)


def _smooth_noise(rng: np.random.Generator, n: int, dims: int, correlation: float) -> np.ndarray:
    """[n, dims] temporally smooth noise with unit standard deviation (Gaussian-filtered white noise)."""
    radius = max(1, int(math.ceil(2.5 * correlation)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / correlation) ** 2)
    kernel /= np.sqrt(np.sum(kernel**2))
    white = rng.standard_normal((n + 2 * radius, dims))
    return np.stack([np.convolve(white[:, d], kernel, mode="valid") for d in range(dims)], axis=1)


def _integrate(start: float | np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Positions ``start + sum of steps[1..t]`` for t = 0..n-1 (frame 0 is ``start``)."""
    steps = steps.copy()
    steps[0] = 0
    return start + np.cumsum(steps, axis=0)


def _canonical_shape(rng: np.random.Generator, kind: str) -> np.ndarray:
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


def _pixel_affine(matrix: np.ndarray) -> np.ndarray:
    """Convert a continuous-coordinate affine (pixel i covers [i, i+1)) to OpenCV's pixel-centre convention."""
    linear, offset = matrix[:, :2], matrix[:, 2]
    return np.concatenate([linear, (offset + linear @ np.array([0.5, 0.5]) - 0.5)[:, None]], axis=1)


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """2x3 affine ``outer o inner``."""
    return np.concatenate([outer[:, :2] @ inner[:, :2], (outer[:, :2] @ inner[:, 2] + outer[:, 2])[:, None]], axis=1)


def _invert(matrix: np.ndarray) -> np.ndarray:
    linear = np.linalg.inv(matrix[:, :2])
    return np.concatenate([linear, (-linear @ matrix[:, 2])[:, None]], axis=1)


def _polygon_area(vertices: np.ndarray) -> np.ndarray:
    """Shoelace area of polygons [..., K, 2]."""
    x, y = vertices[..., 0], vertices[..., 1]
    return 0.5 * np.abs(np.sum(x * np.roll(y, -1, axis=-1) - np.roll(x, -1, axis=-1) * y, axis=-1))


def _bounding_boxes(vertices: np.ndarray) -> np.ndarray:
    """xywh bounding boxes [..., 4] of polygons [..., K, 2]."""
    low, high = vertices.min(axis=-2), vertices.max(axis=-2)
    return np.concatenate([low, high - low], axis=-1)


def _overlap_area(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection area of xywh boxes (broadcasting)."""
    w = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def _polygon_mask(vertices: np.ndarray, origin: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """uint8 (h, w) coverage (0..255) of the pixels of a window by a polygon [K, 2] given in image coordinates.

    The polygon is filled at ``_SUPERSAMPLING`` x resolution (a sub-pixel is in when its centre is inside) and
    area-averaged, so the coverage of pixel ``(x, y)`` approximates the fraction of ``[x, x+1) x [y, y+1)`` inside.
    """
    factor = _SUPERSAMPLING
    fine = np.zeros((size[0] * factor, size[1] * factor), np.uint8)
    points = (vertices - np.asarray(origin, np.float64)) * factor - 0.5
    points = np.round(points * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(fine, [points], 255, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
    return cv2.resize(fine, (size[1], size[0]), interpolation=cv2.INTER_AREA)


# ----------------------------------------------------------------------------------------------------------------
# scene plan


@dataclass(frozen=True)
class _Object:
    """A textured polygon over time (compact: vertices are recomputed per frame).

    Vertex k at frame t is ``A_t @ (canonical[k] * (1 + amplitude * sin(frequency * t + phase[k]))) + b_t`` with
    ``[A_t | b_t] = canonical_to_image[t]``; the texture follows the undeformed affine.
    """

    canonical: np.ndarray  # [K, 2] polygon with bounding box [-0.5, 0.5]^2
    canonical_to_image: np.ndarray  # [N, 2, 3]
    wobble_amplitude: float
    wobble_frequency: float
    wobble_phase: np.ndarray  # [K]
    texture: _Texture
    gain: np.ndarray  # [N] brightness factor over time

    def vertices(self, frames: np.ndarray | int) -> np.ndarray:
        """Image-pixel vertices [..., K, 2] at the given frame index / indices."""
        affine = self.canonical_to_image[frames]
        t = np.asarray(frames, dtype=np.float64)[..., None]
        wobble = 1 + self.wobble_amplitude * np.sin(self.wobble_frequency * t + self.wobble_phase)  # [..., K]
        u, v = self.canonical[:, 0] * wobble, self.canonical[:, 1] * wobble  # [..., K]
        a = affine[..., None, :, :]  # [..., 1, 2, 3]
        x = a[..., 0, 0] * u + a[..., 0, 1] * v + a[..., 0, 2]
        y = a[..., 1, 0] * u + a[..., 1, 1] * v + a[..., 1, 2]
        return np.stack([x, y], axis=-1)


@dataclass(frozen=True)
class _Track:
    """What the annotation depends on: image size, the target, its boxes and validity, and the occluders."""

    width: int
    height: int
    target: _Object
    boxes: np.ndarray  # [N, 4] float64 xywh
    valid: np.ndarray  # [N] bool
    occluders: tuple[_Object, ...]
    shape: str  # target shape kind (distractors often share it)
    size0: float  # initial target size sqrt(w h) of the undeformed shape
    size_bounds: tuple[float, float]


@dataclass(frozen=True)
class _Dressing:
    """Everything else: distractors, the background seen by the moving camera, global colour and blur."""

    distractors: tuple[_Object, ...]
    background: _Texture  # its source, seen through ``views``; ``colour_frame`` is its colour map or None
    views: np.ndarray  # [N, 4] int (x0, y0, x1, y1): source region resized to the frame (camera pan / zoom)
    colour_frame: np.ndarray | None
    blur_sigma: float


class _LRUCache:
    """A small least-recently-used cache of per-sequence plans."""

    def __init__(self, size: int):
        self.size = size
        self._items: dict[int, object] = {}

    def get(self, key: int, create):
        item = self._items.pop(key, None)  # re-inserted below as most recently used
        if item is None:
            item = create()
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
        self._items[key] = item
        return item


class SyntheticDataset(TrainingDataset):
    """Procedurally generated video training data with exact ground truth.

    Args:
        params: sequence statistics (``SyntheticParams``).
        seed: data-set seed; sequence ``i`` depends only on ``(seed, i)`` and the texture sources.
        image_dirs: optional folders whose images are added to the texture/background pool.
        name: data-set name.

    Raises:
        FileNotFoundError: an image folder is missing or empty.
    """

    is_video = True

    def __init__(
        self,
        params: SyntheticParams = SyntheticParams(),
        seed: int = 0,
        image_dirs: SequenceType[str | os.PathLike] = (),
        name: str = "synthetic",
    ):
        self.params = params
        self.seed = int(seed)
        self.name = name
        self.user_images = list_image_files(image_dirs) if image_dirs else ()
        self._pool: _SourcePool | None = None
        self._tracks = _LRUCache(_SCENE_CACHE_SIZE)
        self._dressings = _LRUCache(_SCENE_CACHE_SIZE)

    def __len__(self) -> int:
        return self.params.num_sequences

    def sequence_name(self, index: int) -> str:
        return f"{self.name}_{check_index(self, index):06d}"

    def sequence_info(self, index: int) -> SequenceInfo:
        track = self._track(index)
        return SequenceInfo(self.sequence_name(index), track.boxes.astype(np.float32), track.valid.copy())

    def image_size(self, index: int) -> tuple[int, int]:
        """(height, width) of the frames of sequence ``index``."""
        track = self._track(index)
        return track.height, track.width

    def frames(self, index: int, frame_ids: SequenceType[int]) -> list[np.ndarray]:
        rendered: dict[int, np.ndarray] = {}
        for frame_id in frame_ids:
            if int(frame_id) not in rendered:
                rendered[int(frame_id)] = self.render_frame(index, int(frame_id))
        return [rendered[int(f)] for f in frame_ids]

    def render_frame(self, index: int, frame_id: int, draw_target: bool = True) -> np.ndarray:
        """RGB uint8 (H, W, 3) frame ``frame_id`` of sequence ``index`` (``draw_target=False``: without the target)."""
        track, dressing = self._track(index), self._dressing(index)
        t = self._check_frame(track, index, frame_id)
        x0, y0, x1, y1 = dressing.views[t]
        view = self._sources().image(dressing.background.source)[y0:y1, x0:x1]
        if dressing.colour_frame is not None:
            view = cv2.transform(view, dressing.colour_frame)
        frame = cv2.resize(view, (track.width, track.height), interpolation=cv2.INTER_LINEAR)
        objects = list(dressing.distractors) + ([track.target] if draw_target else []) + list(track.occluders)
        for obj in objects:
            self._draw(frame, obj, t)
        if dressing.blur_sigma > 0:
            frame = cv2.GaussianBlur(frame, (0, 0), dressing.blur_sigma)
        return frame

    def target_mask(self, index: int, frame_id: int) -> np.ndarray:
        """bool (H, W): pixels whose centre-weighted coverage by the target polygon is >= 1/2 (occluders ignored)."""
        track = self._track(index)
        t = self._check_frame(track, index, frame_id)
        return _polygon_mask(track.target.vertices(t), (0, 0), (track.height, track.width)) >= 128

    def write_folder(self, root: str | os.PathLike, indices: SequenceType[int] | None = None, jpeg_quality: int = 95) -> list[Path]:
        """Write sequences in the OTB-style folder layout read by ``load_dataset("folder", root)``.

        Writes ``<root>/<name>/img/0001.jpg ...`` and ``<root>/<name>/groundtruth.txt`` (x,y,w,h, 0-based px,
        2 decimals; ``nan`` rows for invalid frames). Each file is written atomically.

        Returns:
            The sequence folders written.
        """
        indices = range(len(self)) if indices is None else indices
        folders = []
        for index in tqdm(indices, desc=f"writing {self.name}", unit="seq", disable=len(indices) < 5):
            info = self.sequence_info(index)
            folder = Path(root) / info.name
            for frame_id in range(len(info)):
                image = cv2.cvtColor(self.render_frame(index, frame_id), cv2.COLOR_RGB2BGR)
                ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
                if not ok:
                    raise ValueError(f"cannot encode frame {frame_id} of {info.name} as JPEG")
                atomic_write(folder / "img" / f"{frame_id + 1:04d}.jpg", lambda tmp, data=encoded: data.tofile(tmp))
            boxes = info.boxes.astype(np.float64)
            boxes[~info.valid] = np.nan
            save_boxes(folder / "groundtruth.txt", boxes)
            folders.append(folder)
        return folders

    # ------------------------------------------------------------------------------------------------------------

    def _check_frame(self, track: _Track, index: int, frame_id: int) -> int:
        frame_id = int(frame_id)
        if not 0 <= frame_id < len(track.boxes):
            raise IndexError(f"frame {frame_id} out of range for {self.sequence_name(index)} ({len(track.boxes)} frames)")
        return frame_id

    def _track(self, index: int) -> _Track:
        index = check_index(self, index)
        return self._tracks.get(index, lambda: _plan_track(self.params, self.seed, index, self._sources()))

    def _dressing(self, index: int) -> _Dressing:
        track = self._track(index)
        return self._dressings.get(index, lambda: _plan_dressing(self.params, self.seed, index, self._sources(), track))

    def _sources(self) -> _SourcePool:
        if self._pool is None:
            self._pool = _SourcePool(self.user_images)
        return self._pool

    def _draw(self, frame: np.ndarray, obj: _Object, t: int) -> None:
        height, width = frame.shape[:2]
        vertices = obj.vertices(t)
        x0, y0 = np.floor(vertices.min(axis=0)).astype(int)
        x1, y1 = np.ceil(vertices.max(axis=0)).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 <= x0 or y1 <= y0:
            return
        mask = _polygon_mask(vertices, (x0, y0), (y1 - y0, x1 - x0))
        source_to_image = _compose(obj.canonical_to_image[t], _invert(obj.texture.canonical_to_source))
        source_to_image[:, 2] -= (x0, y0)
        texture = cv2.warpAffine(
            self._sources().image(obj.texture.source), _pixel_affine(source_to_image), (x1 - x0, y1 - y0),
            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101,
        )
        texture = cv2.transform(texture, obj.texture.colour * np.float32(obj.gain[t]))
        alpha = mask.astype(np.float32)[:, :, None] * np.float32(1 / 255)
        region = frame[y0:y1, x0:x1]
        region[:] = (region + alpha * (texture.astype(np.float32) - region) + 0.5).astype(np.uint8)


def _random_colour(rng: np.random.Generator, strength: float) -> np.ndarray:
    """[3, 4] colour map: per-channel gain, channel mixing and offset, ``strength`` in [0, 1]."""
    mix = np.eye(3) * (1 - strength * rng.uniform(0, 0.6)) + strength * rng.uniform(0, 0.4, size=(3, 3)) * rng.permutation(np.eye(3))
    gain = 1 + strength * rng.uniform(-0.3, 0.3, size=(3, 1))
    offset = strength * rng.uniform(-30, 30, size=(3, 1))
    return np.concatenate([mix * gain, offset], axis=1).astype(np.float32)


def _random_texture(rng: np.random.Generator, pool: _SourcePool) -> _Texture:
    """A texture from the real/user image pool with probability 0.7 (when not empty), else procedural."""
    if pool.size and rng.random() < 0.7:
        key = int(rng.integers(pool.size))
        source = ("real", key) if key < pool.num_real else ("user", key - pool.num_real)
    else:
        source = (str(rng.choice(_PROCEDURAL_KINDS)), int(rng.integers(_PROCEDURAL_VARIANTS)))
    source_h, source_w = pool.source_size(source)
    # canonical square -> a random, possibly rotated rectangle of the source (borders are reflected when drawing)
    size = rng.uniform(0.15, 0.6) * min(source_h, source_w)
    angle = rng.uniform(-np.pi, np.pi) if rng.random() < 0.5 else 0.0
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rotation @ np.diag([size * rng.uniform(0.8, 1.25), size])
    centre = rng.uniform(0, 1, size=2) * np.array([source_w, source_h])
    colour = _random_colour(rng, strength=float(rng.uniform(0, 1)))
    return _Texture(source, np.concatenate([linear, centre[:, None]], axis=1), colour)


def _object_track(
    rng: np.random.Generator, params: SyntheticParams, n: int, width: int, height: int,
    size0: float, size_bounds: tuple[float, float], shape: str, texture: _Texture, moving: bool = True,
) -> _Object:
    """A target-like object: smooth motion, scale, aspect, optional rotation and wobble, kept in the image."""
    log_size = np.log(size0) + np.zeros(n)
    if moving:
        rate = rng.uniform(0, 0.5) * params.max_scale_change
        steps = np.clip(_smooth_noise(rng, n, 1, rng.uniform(3, 12))[:, 0] * rate, -params.max_scale_change, params.max_scale_change)
        log_size = _fold(_integrate(np.log(size0), steps), *np.log(size_bounds))
    log_aspect0 = float(np.clip(rng.normal(0, 0.45), -1.1, 1.1))
    rate = rng.uniform(0, 0.5) * params.max_aspect_change
    steps = np.clip(_smooth_noise(rng, n, 1, rng.uniform(3, 12))[:, 0] * rate, -params.max_aspect_change, params.max_aspect_change)
    log_aspect = _fold(_integrate(log_aspect0, steps), -1.2, 1.2)
    theta = np.zeros(n)
    if rng.random() < params.rotation_prob:
        limit = np.deg2rad(params.max_rotation_deg)
        steps = np.clip(_smooth_noise(rng, n, 1, rng.uniform(5, 15))[:, 0] * rng.uniform(0.2, 0.6) * limit, -limit, limit)
        theta = _integrate(rng.uniform(-0.5, 0.5), steps)
    size = np.exp(log_size)
    # velocity in units of the current size, smooth, bounded by max_speed
    direction = rng.uniform(0, 2 * np.pi)
    mean_velocity = rng.uniform(0, 0.5) * params.max_speed * np.array([np.cos(direction), np.sin(direction)])
    velocity = mean_velocity + _smooth_noise(rng, n, 2, rng.uniform(3, 15)) * rng.uniform(0.05, 0.35) * params.max_speed
    speed = np.linalg.norm(velocity, axis=1, keepdims=True)
    velocity *= np.minimum(1.0, params.max_speed / np.maximum(speed, 1e-9))
    if not moving:
        velocity[:] = 0
    margin = np.array([0.08 * width, 0.08 * height])
    centre0 = rng.uniform(margin, np.array([width, height]) - margin)
    centre = _integrate(centre0, velocity * size[:, None])
    centre = np.stack([_fold(centre[:, 0], margin[0], width - margin[0]), _fold(centre[:, 1], margin[1], height - margin[1])], axis=1)
    half_aspect = np.exp(log_aspect / 2)
    stretch = np.stack([size * half_aspect, size / half_aspect], axis=1)  # [N, 2] (w, h) of the undeformed shape
    cos, sin = np.cos(theta), np.sin(theta)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # [N, 2, 2]
    linear = rotation * stretch[:, None, :]
    canonical = _canonical_shape(rng, shape)
    amplitude = rng.uniform(0, params.max_deformation)
    frequency = rng.uniform(0.05, 0.3)
    lobes = int(rng.integers(2, 5))
    phase = lobes * np.arctan2(canonical[:, 1], canonical[:, 0]) + rng.uniform(0, 2 * np.pi)
    canonical_to_image = np.concatenate([linear, centre[:, :, None]], axis=2)
    gain = 1 + rng.uniform(0, 0.15) * np.sin(rng.uniform(0.02, 0.15) * np.arange(n) + rng.uniform(0, 2 * np.pi))
    return _Object(canonical, canonical_to_image, float(amplitude), float(frequency), phase, texture, gain)


def _occluder_track(
    rng: np.random.Generator, n: int, target: _Object, target_size: float, texture: _Texture,
) -> _Object:
    """An object crossing the target's path at a random frame (or standing on it), drawn in front of the target."""
    size = target_size * rng.uniform(0.3, 0.8)
    log_aspect = float(np.clip(rng.normal(0, 0.5), -1.2, 1.2))
    stretch = np.array([size * np.exp(log_aspect / 2), size * np.exp(-log_aspect / 2)])
    cross = int(rng.integers(n))
    anchor = target.canonical_to_image[cross, :, 2] + rng.uniform(-0.3, 0.3, size=2) * target_size
    direction = rng.uniform(0, 2 * np.pi)
    speed = 0.0 if rng.random() < 0.2 else rng.uniform(0.05, 0.4) * target_size
    centre = anchor + np.outer(np.arange(n) - cross, speed * np.array([np.cos(direction), np.sin(direction)]))
    canonical = _canonical_shape(rng, str(rng.choice(_SHAPES)))
    linear = np.broadcast_to(np.diag(stretch), (n, 2, 2))
    canonical_to_image = np.concatenate([linear, centre[:, :, None]], axis=2)
    return _Object(canonical, canonical_to_image, 0.0, 0.0, np.zeros(len(canonical)), texture, np.ones(n))


def _plan_track(params: SyntheticParams, seed: int, index: int, pool: _SourcePool) -> _Track:
    """Image size, target trajectory, boxes, validity and occluders of sequence ``index`` (random stream [seed, index])."""
    rng = np.random.default_rng([seed, index])
    n = params.sequence_length
    short = int(rng.integers(params.short_side[0], params.short_side[1] + 1))
    long = int(min(params.max_long_side, round(short * rng.uniform(1.0, 1.78))))
    width, height = (long, short) if rng.random() < 0.85 else (short, long)

    side = min(width, height)
    size_bounds = (max(params.min_target_px, params.target_size[0] * side), params.target_size[1] * side)
    size0 = float(np.exp(rng.uniform(*np.log(size_bounds))))
    shape = str(rng.choice(_SHAPES))
    target = _object_track(rng, params, n, width, height, size0, size_bounds, shape, _random_texture(rng, pool))
    target_vertices = target.vertices(np.arange(n))
    boxes = _bounding_boxes(target_vertices)

    occluders = []
    for _ in range(int(rng.integers(params.max_occluders + 1))):
        occluders.append(_occluder_track(rng, n, target, size0, _random_texture(rng, pool)))

    area = np.maximum(_polygon_area(target_vertices), 1e-9)
    hidden = np.zeros(n)
    for occluder in occluders:
        hidden += _overlap_area(_bounding_boxes(occluder.vertices(np.arange(n))), boxes)
    image_box = np.array([0.0, 0.0, width, height])
    inside = _overlap_area(boxes, image_box) / np.maximum(boxes[:, 2] * boxes[:, 3], 1e-9)
    valid = (hidden / area <= 1 - params.min_visible_fraction) & (inside >= params.min_inside_fraction)
    valid &= (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    return _Track(width, height, target, boxes, valid, tuple(occluders), shape, size0, size_bounds)


def _plan_dressing(params: SyntheticParams, seed: int, index: int, pool: _SourcePool, track: _Track) -> _Dressing:
    """Distractors, background camera, colour and blur of sequence ``index`` (random stream [seed, index, 1])."""
    rng = np.random.default_rng([seed, index, 1])
    n, width, height = params.sequence_length, track.width, track.height
    target_texture = track.target.texture
    distractors = []
    for _ in range(int(rng.integers(params.max_distractors + 1))):
        if rng.random() < 0.6:  # similar look: same source, shifted crop, slightly different colour
            shift = np.zeros((2, 3))
            shift[:, 2] = rng.uniform(-0.3, 0.3, size=2) * np.abs(target_texture.canonical_to_source[:, :2]).sum(axis=1)
            colour = target_texture.colour * rng.uniform(0.9, 1.1, size=(3, 1)).astype(np.float32)
            texture = _Texture(target_texture.source, target_texture.canonical_to_source + shift, colour)
            shape = track.shape if rng.random() < 0.7 else str(rng.choice(_SHAPES))
        else:
            texture = _random_texture(rng, pool)
            shape = str(rng.choice(_SHAPES))
        size = float(np.clip(track.size0 * rng.uniform(0.6, 1.5), *track.size_bounds))
        distractors.append(_object_track(rng, params, n, width, height, size, track.size_bounds, shape, texture))

    background = _random_texture(rng, pool)
    source_h, source_w = pool.source_size(background.source)
    zoom0 = max(width / source_w, height / source_h) * rng.uniform(1.0, 1.5)
    log_zoom = np.full(n, np.log(zoom0))
    view_w, view_h = width / zoom0, height / zoom0
    offset0 = rng.uniform(0, 1, size=2) * np.array([max(source_w - view_w, 0), max(source_h - view_h, 0)])
    offset = np.tile(offset0, (n, 1))
    if rng.random() < params.camera_motion_prob:
        pan = _smooth_noise(rng, n, 2, rng.uniform(5, 20)) * rng.uniform(0.5, 4.0) / zoom0
        offset = _integrate(offset0, pan)
        offset = np.stack([_fold(offset[:, 0], 0, max(source_w - view_w, 0)), _fold(offset[:, 1], 0, max(source_h - view_h, 0))], axis=1)
        zoom_steps = _smooth_noise(rng, n, 1, rng.uniform(5, 20))[:, 0] * rng.uniform(0, 0.01)
        log_zoom = _fold(_integrate(np.log(zoom0), zoom_steps), np.log(zoom0), np.log(zoom0) + 0.4)
    zoom = np.exp(log_zoom)
    # integer source regions (pan quantised to one source pixel) so that frames are plain resizes
    low = np.round(offset).astype(np.int64)
    high = np.round(offset + np.stack([width / zoom, height / zoom], axis=1)).astype(np.int64)
    low = np.clip(low, 0, np.array([source_w - 1, source_h - 1]))
    high = np.clip(np.maximum(high, low + 1), 1, np.array([source_w, source_h]))
    views = np.concatenate([low, high], axis=1)
    colour_frame = background.colour if rng.random() < 0.5 else None
    blur_sigma = float(rng.uniform(0.5, 1.5)) if rng.random() < params.blur_prob else 0.0
    return _Dressing(tuple(distractors), background, views, colour_frame, blur_sigma)


def main(argv: SequenceType[str] | None = None) -> int:
    """``python -m ltr.dataset.synthetic OUT_DIR [--num-sequences N] [--length L] [--seed S]``: write sequences to disk."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m ltr.dataset.synthetic",
        description="Write procedural tracking sequences in the folder layout (<out>/<seq>/img/0001.jpg + groundtruth.txt, "
        "0-based x,y,w,h; nan = invalid frame), readable with load_dataset('folder', root=<out>).",
    )
    parser.add_argument("out", help="output folder")
    parser.add_argument("--num-sequences", type=int, default=10)
    parser.add_argument("--length", type=int, default=100, help="frames per sequence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-dir", action="append", default=[], help="extra texture/background image folder (repeatable)")
    parser.add_argument("--jpeg-quality", type=int, default=95)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        params = SyntheticParams(num_sequences=args.num_sequences, sequence_length=args.length)
        dataset = SyntheticDataset(params, seed=args.seed, image_dirs=args.image_dir)
        folders = dataset.write_folder(args.out, jpeg_quality=args.jpeg_quality)
    except (ValueError, FileNotFoundError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logger.info("wrote %d sequences to %s", len(folders), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
