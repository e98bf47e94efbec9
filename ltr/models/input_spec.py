"""The IoU-Net's input contract: what crops a network was trained on, recorded in its checkpoint.

Training crops and tracking crops must agree on it: the crop side, how many target sizes the crop covers, the
pixel normalisation and which backbone layers (with their strides) feed the IoU-Net. The training recipe sets it,
``ltr.admin.checkpoint`` stores it with the weights, and the tracker reads it from the loaded network. Checkpoints
without it (older ones, official pytracking ones) get :data:`REFERENCE_INPUT_SPEC`, the reference training's values.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class InputSpec:
    """Crops of ``crop_size`` px covering ``search_area_factor`` target sizes, RGB in [0, 1] normalised by
    ``(x - mean) / std``; the IoU-Net reads backbone ``layers`` with ``strides`` (crop px per cell)."""

    crop_size: int = 288
    search_area_factor: float = 5.0
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    layers: tuple[str, ...] = ("layer2", "layer3")
    strides: tuple[int, ...] = (8, 16)

    def __post_init__(self) -> None:
        if len(self.layers) != len(self.strides):
            raise ValueError(f"input spec: {len(self.layers)} layers but {len(self.strides)} strides")
        if self.crop_size % max(self.strides) or self.search_area_factor <= 0:
            raise ValueError(f"input spec: crop_size {self.crop_size} must be a multiple of the largest stride "
                             f"{max(self.strides)} and search_area_factor {self.search_area_factor} positive")

    def to_dict(self) -> dict[str, Any]:
        """Plain types only (lists, numbers, strings): what a checkpoint stores."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputSpec:
        """Inverse of :meth:`to_dict`; ``ValueError`` naming an unknown or malformed field."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"input spec: unknown field(s) {unknown}")
        try:
            return cls(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})
        except TypeError as error:
            raise ValueError(f"input spec: {error}") from None


#: the reference ATOM training: 288 px crops 5 targets wide, ImageNet normalisation, layer2 + layer3
REFERENCE_INPUT_SPEC = InputSpec()
