"""Per-sequence plans: the target's and the occluders' tracks, distractors, background and camera views."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltr.dataset.synthetic.geometry import (
    bounding_boxes,
    canonical_shape,
    fold,
    integrate,
    overlap_area,
    polygon_area,
    smooth_noise,
)
from ltr.dataset.synthetic.params import SHAPES, SyntheticParams
from ltr.dataset.synthetic.textures import SourcePool, Texture, random_texture


@dataclass(frozen=True)
class SceneObject:
    """A textured polygon over time (compact: vertices are recomputed per frame).

    Vertex k at frame t is ``A_t @ (canonical[k] * (1 + amplitude * sin(frequency * t + phase[k]))) + b_t`` with
    ``[A_t | b_t] = canonical_to_image[t]``; the texture follows the undeformed affine.
    """

    canonical: np.ndarray  # [K, 2] polygon with bounding box [-0.5, 0.5]^2
    canonical_to_image: np.ndarray  # [N, 2, 3]
    wobble_amplitude: float
    wobble_frequency: float
    wobble_phase: np.ndarray  # [K]
    texture: Texture
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
class Track:
    """What the annotation depends on: image size, the target, its boxes and validity, and the occluders."""

    width: int
    height: int
    target: SceneObject
    boxes: np.ndarray  # [N, 4] float64 xywh
    valid: np.ndarray  # [N] bool
    occluders: tuple[SceneObject, ...]
    shape: str  # target shape kind (distractors often share it)
    size0: float  # initial target size sqrt(w h) of the undeformed shape
    size_bounds: tuple[float, float]


@dataclass(frozen=True)
class Dressing:
    """Everything else: distractors, the background seen by the moving camera, global colour and blur."""

    distractors: tuple[SceneObject, ...]
    background: Texture  # its source, seen through ``views``; ``colour_frame`` is its colour map or None
    views: np.ndarray  # [N, 4] int (x0, y0, x1, y1): source region resized to the frame (camera pan / zoom)
    colour_frame: np.ndarray | None
    blur_sigma: float


def _object_track(
    rng: np.random.Generator, params: SyntheticParams, n: int, width: int, height: int,
    size0: float, size_bounds: tuple[float, float], shape: str, texture: Texture, moving: bool = True,
) -> SceneObject:
    """A target-like object: smooth motion, scale, aspect, optional rotation and wobble, kept in the image."""
    log_size = np.log(size0) + np.zeros(n)
    if moving:
        rate = rng.uniform(0, 0.5) * params.max_scale_change
        steps = np.clip(smooth_noise(rng, n, 1, rng.uniform(3, 12))[:, 0] * rate, -params.max_scale_change, params.max_scale_change)
        log_size = fold(integrate(np.log(size0), steps), *np.log(size_bounds))
    log_aspect0 = float(np.clip(rng.normal(0, 0.45), -1.1, 1.1))
    rate = rng.uniform(0, 0.5) * params.max_aspect_change
    steps = np.clip(smooth_noise(rng, n, 1, rng.uniform(3, 12))[:, 0] * rate, -params.max_aspect_change, params.max_aspect_change)
    log_aspect = fold(integrate(log_aspect0, steps), -1.2, 1.2)
    theta = np.zeros(n)
    if rng.random() < params.rotation_prob:
        limit = np.deg2rad(params.max_rotation_deg)
        steps = np.clip(smooth_noise(rng, n, 1, rng.uniform(5, 15))[:, 0] * rng.uniform(0.2, 0.6) * limit, -limit, limit)
        theta = integrate(rng.uniform(-0.5, 0.5), steps)
    size = np.exp(log_size)
    # velocity in units of the current size, smooth, bounded by max_speed
    direction = rng.uniform(0, 2 * np.pi)
    mean_velocity = rng.uniform(0, 0.5) * params.max_speed * np.array([np.cos(direction), np.sin(direction)])
    velocity = mean_velocity + smooth_noise(rng, n, 2, rng.uniform(3, 15)) * rng.uniform(0.05, 0.35) * params.max_speed
    speed = np.linalg.norm(velocity, axis=1, keepdims=True)
    velocity *= np.minimum(1.0, params.max_speed / np.maximum(speed, 1e-9))
    if not moving:
        velocity[:] = 0
    margin = np.array([0.08 * width, 0.08 * height])
    centre0 = rng.uniform(margin, np.array([width, height]) - margin)
    centre = integrate(centre0, velocity * size[:, None])
    centre = np.stack([fold(centre[:, 0], margin[0], width - margin[0]), fold(centre[:, 1], margin[1], height - margin[1])], axis=1)
    half_aspect = np.exp(log_aspect / 2)
    stretch = np.stack([size * half_aspect, size / half_aspect], axis=1)  # [N, 2] (w, h) of the undeformed shape
    cos, sin = np.cos(theta), np.sin(theta)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # [N, 2, 2]
    linear = rotation * stretch[:, None, :]
    canonical = canonical_shape(rng, shape)
    amplitude = rng.uniform(0, params.max_deformation)
    frequency = rng.uniform(0.05, 0.3)
    lobes = int(rng.integers(2, 5))
    phase = lobes * np.arctan2(canonical[:, 1], canonical[:, 0]) + rng.uniform(0, 2 * np.pi)
    canonical_to_image = np.concatenate([linear, centre[:, :, None]], axis=2)
    gain = 1 + rng.uniform(0, 0.15) * np.sin(rng.uniform(0.02, 0.15) * np.arange(n) + rng.uniform(0, 2 * np.pi))
    return SceneObject(canonical, canonical_to_image, float(amplitude), float(frequency), phase, texture, gain)


def _occluder_track(
    rng: np.random.Generator, n: int, target: SceneObject, target_size: float, texture: Texture,
) -> SceneObject:
    """An object crossing the target's path at a random frame (or standing on it), drawn in front of the target."""
    size = target_size * rng.uniform(0.3, 0.8)
    log_aspect = float(np.clip(rng.normal(0, 0.5), -1.2, 1.2))
    stretch = np.array([size * np.exp(log_aspect / 2), size * np.exp(-log_aspect / 2)])
    cross = int(rng.integers(n))
    anchor = target.canonical_to_image[cross, :, 2] + rng.uniform(-0.3, 0.3, size=2) * target_size
    direction = rng.uniform(0, 2 * np.pi)
    speed = 0.0 if rng.random() < 0.2 else rng.uniform(0.05, 0.4) * target_size
    centre = anchor + np.outer(np.arange(n) - cross, speed * np.array([np.cos(direction), np.sin(direction)]))
    canonical = canonical_shape(rng, str(rng.choice(SHAPES)))
    linear = np.broadcast_to(np.diag(stretch), (n, 2, 2))
    canonical_to_image = np.concatenate([linear, centre[:, :, None]], axis=2)
    return SceneObject(canonical, canonical_to_image, 0.0, 0.0, np.zeros(len(canonical)), texture, np.ones(n))


def plan_track(params: SyntheticParams, seed: int, index: int, pool: SourcePool) -> Track:
    """Image size, target trajectory, boxes, validity and occluders of sequence ``index`` (random stream [seed, index])."""
    rng = np.random.default_rng([seed, index])
    n = params.sequence_length
    short = int(rng.integers(params.short_side[0], params.short_side[1] + 1))
    long = int(min(params.max_long_side, round(short * rng.uniform(1.0, 1.78))))
    width, height = (long, short) if rng.random() < 0.85 else (short, long)

    side = min(width, height)
    size_bounds = (max(params.min_target_px, params.target_size[0] * side), params.target_size[1] * side)
    size0 = float(np.exp(rng.uniform(*np.log(size_bounds))))
    shape = str(rng.choice(SHAPES))
    target = _object_track(rng, params, n, width, height, size0, size_bounds, shape, random_texture(rng, pool))
    target_vertices = target.vertices(np.arange(n))
    boxes = bounding_boxes(target_vertices)

    occluders = []
    for _ in range(int(rng.integers(params.max_occluders + 1))):
        occluders.append(_occluder_track(rng, n, target, size0, random_texture(rng, pool)))

    area = np.maximum(polygon_area(target_vertices), 1e-9)
    hidden = np.zeros(n)
    for occluder in occluders:
        hidden += overlap_area(bounding_boxes(occluder.vertices(np.arange(n))), boxes)
    image_box = np.array([0.0, 0.0, width, height])
    inside = overlap_area(boxes, image_box) / np.maximum(boxes[:, 2] * boxes[:, 3], 1e-9)
    valid = (hidden / area <= 1 - params.min_visible_fraction) & (inside >= params.min_inside_fraction)
    valid &= (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    return Track(width, height, target, boxes, valid, tuple(occluders), shape, size0, size_bounds)


def plan_dressing(params: SyntheticParams, seed: int, index: int, pool: SourcePool, track: Track) -> Dressing:
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
            texture = Texture(target_texture.source, target_texture.canonical_to_source + shift, colour)
            shape = track.shape if rng.random() < 0.7 else str(rng.choice(SHAPES))
        else:
            texture = random_texture(rng, pool)
            shape = str(rng.choice(SHAPES))
        size = float(np.clip(track.size0 * rng.uniform(0.6, 1.5), *track.size_bounds))
        distractors.append(_object_track(rng, params, n, width, height, size, track.size_bounds, shape, texture))

    background = random_texture(rng, pool)
    source_h, source_w = pool.source_size(background.source)
    zoom0 = max(width / source_w, height / source_h) * rng.uniform(1.0, 1.5)
    log_zoom = np.full(n, np.log(zoom0))
    view_w, view_h = width / zoom0, height / zoom0
    offset0 = rng.uniform(0, 1, size=2) * np.array([max(source_w - view_w, 0), max(source_h - view_h, 0)])
    offset = np.tile(offset0, (n, 1))
    if rng.random() < params.camera_motion_prob:
        pan = smooth_noise(rng, n, 2, rng.uniform(5, 20)) * rng.uniform(0.5, 4.0) / zoom0
        offset = integrate(offset0, pan)
        offset = np.stack([fold(offset[:, 0], 0, max(source_w - view_w, 0)), fold(offset[:, 1], 0, max(source_h - view_h, 0))], axis=1)
        zoom_steps = smooth_noise(rng, n, 1, rng.uniform(5, 20))[:, 0] * rng.uniform(0, 0.01)
        log_zoom = fold(integrate(np.log(zoom0), zoom_steps), np.log(zoom0), np.log(zoom0) + 0.4)
    zoom = np.exp(log_zoom)
    # integer source regions (pan quantised to one source pixel) so that frames are plain resizes
    low = np.round(offset).astype(np.int64)
    high = np.round(offset + np.stack([width / zoom, height / zoom], axis=1)).astype(np.int64)
    low = np.clip(low, 0, np.array([source_w - 1, source_h - 1]))
    high = np.clip(np.maximum(high, low + 1), 1, np.array([source_w, source_h]))
    views = np.concatenate([low, high], axis=1)
    colour_frame = background.colour if rng.random() < 0.5 else None
    blur_sigma = float(rng.uniform(0.5, 1.5)) if rng.random() < params.blur_prob else 0.0
    return Dressing(tuple(distractors), background, views, colour_frame, blur_sigma)
