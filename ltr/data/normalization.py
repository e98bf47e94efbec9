"""Crops to network input: uint8 RGB arrays -> normalised float tensors (the tracker's crops, int8 calibration)."""
from __future__ import annotations

import numpy as np
import torch

from ltr.models.input_spec import InputSpec


class ImageNormalizer:
    """uint8 (B, H, W, 3) or (H, W, 3) RGB arrays -> tensors [B, 3, H, W] of ``(x / 255 - mean) / std`` (the
    network's ``InputSpec``) on ``device``."""

    def __init__(self, spec: InputSpec, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.mean = torch.tensor(spec.mean, device=self.device).view(1, 3, 1, 1) * 255.0
        self.inv_std = 1.0 / (torch.tensor(spec.std, device=self.device).view(1, 3, 1, 1) * 255.0)

    def __call__(self, images: np.ndarray) -> torch.Tensor:
        batch = images[None] if images.ndim == 3 else images
        tensor = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, non_blocking=True)
        tensor = tensor.permute(0, 3, 1, 2).float()
        return (tensor - self.mean) * self.inv_std
