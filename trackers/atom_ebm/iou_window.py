"""IoU-Net test features on a window of the backbone maps around the refined boxes, exact or not used.

The IoU-Net pools only a small neighbourhood of the target from its test features (conv3_1t/conv3_2t on the
stride-8 layer2 map, conv4_1t/conv4_2t on the stride-16 layer3 map). A window is chosen on the layer3 grid
(16 px cells, 2 layer2 cells each) around every box the refinement can start from plus a margin for the
boxes' motion. The convolutions run on the window grown by 2 cells (two 3x3 convs with padding 1), so every
cell inside the window equals the full-map result; at a window side that is a map border the zero padding
is the same as the full map's.

PrRoIPool reads feature cell j for a box [x1, x2] (feature units) only if x1 - 1 < j < x2 + 1, so pooling
from the window equals pooling from the full map when every evaluated box satisfies, in crop pixels,
``x1 >= 16 * col0`` and ``x2 <= 16 * (col1 - 1)`` (layer3; layer2's bound ``16 * col1 - 8`` is weaker), and the
same for y, except at sides that are map borders. :meth:`FeatureWindow.covers` checks that after the
refinement; the tracker recomputes on the full maps when it fails.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from trackers.atom_ebm.params import LAYER3_STRIDE

CONV_MARGIN = 2  # cells: two 3x3 convolutions with padding 1 per branch


@dataclass(frozen=True)
class FeatureWindow:
    """Half-open window ``[row0, row1) x [col0, col1)`` of the layer3 grid (``height x width`` cells)."""

    row0: int
    row1: int
    col0: int
    col1: int
    height: int
    width: int

    @property
    def offset(self) -> tuple[float, float]:
        """(x, y) crop-pixel position of the window's top-left corner."""
        return float(LAYER3_STRIDE * self.col0), float(LAYER3_STRIDE * self.row0)

    def crop_inputs(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """[layer2, layer3] backbone maps -> the window grown by the convolution margin (clipped to the map)."""
        return [self._slice(feat, factor, CONV_MARGIN) for feat, factor in zip(feats, (2, 1))]

    def crop_outputs(self, iou_feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """IoU features of :meth:`crop_inputs` -> exactly the window (layer2 branch, layer3 branch)."""
        cropped = []
        for feat, factor in zip(iou_feats, (2, 1)):
            top = factor * self.row0 - max(factor * self.row0 - CONV_MARGIN, 0)
            left = factor * self.col0 - max(factor * self.col0 - CONV_MARGIN, 0)
            rows, cols = factor * (self.row1 - self.row0), factor * (self.col1 - self.col0)
            cropped.append(feat[..., top:top + rows, left:left + cols])
        return cropped

    def covers(self, lower: tuple[float, float], upper: tuple[float, float]) -> bool:
        """True when boxes spanning ``lower`` = (min x, min y) .. ``upper`` = (max x, max y) pool exactly."""
        bounds = ((self.col0, self.col1, self.width, lower[0], upper[0]), (self.row0, self.row1, self.height, lower[1], upper[1]))
        for start, stop, size, low, high in bounds:
            if not (math.isfinite(low) and math.isfinite(high)):
                return False
            if start > 0 and low < LAYER3_STRIDE * start:
                return False
            if stop < size and high > LAYER3_STRIDE * (stop - 1):
                return False
        return True

    def _slice(self, feat: torch.Tensor, factor: int, margin: int) -> torch.Tensor:
        height, width = feat.shape[-2:]
        top, bottom = max(factor * self.row0 - margin, 0), min(factor * self.row1 + margin, height)
        left, right = max(factor * self.col0 - margin, 0), min(factor * self.col1 + margin, width)
        return feat[..., top:bottom, left:right]


def feature_window(lower: tuple[float, float], upper: tuple[float, float], margin: float, height: int,
                   width: int) -> FeatureWindow:
    """The smallest layer3-cell window whose exact region holds [lower - margin, upper + margin] (crop px).

    Args:
        lower, upper: (x, y) extent of the boxes to cover, crop pixels.
        margin: extra pixels on every side.
        height, width: layer3 map size in cells.
    """
    col0 = min(max(math.floor((lower[0] - margin) / LAYER3_STRIDE), 0), width - 1)
    row0 = min(max(math.floor((lower[1] - margin) / LAYER3_STRIDE), 0), height - 1)
    col1 = max(min(math.ceil((upper[0] + margin) / LAYER3_STRIDE) + 1, width), col0 + 1)
    row1 = max(min(math.ceil((upper[1] + margin) / LAYER3_STRIDE) + 1, height), row0 + 1)
    return FeatureWindow(row0, row1, col0, col1, height, width)
