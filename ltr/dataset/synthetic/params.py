"""Settings of the procedural sequences (``SyntheticParams``) and the constants the generator shares."""
from __future__ import annotations

from dataclasses import dataclass

# scikit-image sample images stored inside the wheel (no download needed); gray ones are used as RGB.
SKIMAGE_IMAGES: tuple[str, ...] = (
    "astronaut", "coffee", "chelsea", "rocket", "cat", "hubble_deep_field", "immunohistochemistry", "retina",
    "colorwheel", "camera", "coins", "brick", "grass", "gravel", "moon", "page", "text", "clock", "cell",
)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
PROCEDURAL_KINDS = ("noise", "stripes", "checker", "gradient")
SHAPES = ("ellipse", "rectangle", "polygon", "star", "blob")
SUBPIXEL_BITS = 4
SUPERSAMPLING = 4
SCENE_CACHE_SIZE = 1024  # planned scenes kept per process (a few kB each)
PROCEDURAL_SIZE = 192
PROCEDURAL_VARIANTS = 64  # per kind; variety also comes from the random crop, rotation and colour map


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
