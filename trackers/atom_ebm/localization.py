"""Peak analysis of the classifier's up-sampled score map (ATOM's "advanced localisation")."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from trackers.atom_ebm.params import AtomEbmParams

NOT_FOUND = "not_found"
UNCERTAIN = "uncertain"
HARD_NEGATIVE = "hard_negative"


@dataclass(frozen=True)
class Localization:
    """Outcome of the peak analysis.

    Attributes:
        displacement: (dx, dy) of the chosen peak from the map centre, in map pixels (= crop pixels).
        flag: None (normal), "not_found", "uncertain" or "hard_negative".
        max_score: value of the highest peak.
    """

    displacement: tuple[float, float]
    flag: str | None
    max_score: float


def localize_target(scores: torch.Tensor, target_size: tuple[float, float], params: AtomEbmParams) -> Localization:
    """Find the target peak and classify the frame from the two highest peaks.

    not_found if the maximum is below ``target_not_found_threshold``. Otherwise a window of
    ``target_neighborhood_scale * target_size`` around peak 1 is suppressed and peak 2 is found. If
    peak 2 > distractor_threshold * peak 1: with T = displacement_scale * sqrt(H * W) / 2, a peak 1 closer than T
    and a peak 2 farther gives hard_negative at peak 1, the reverse gives hard_negative at peak 2, otherwise
    uncertain at peak 1. Else peak 2 > hard_negative_threshold * peak 1 (and above the not-found threshold) gives
    hard_negative at peak 1; otherwise the frame is normal.

    Args:
        scores: [H, W] score map whose centre index (H // 2, W // 2) is zero displacement.
        target_size: (w, h) of the target in map pixels.
        params: thresholds.
    """
    height, width = scores.shape
    center = (height // 2, width // 2)
    flat = scores.reshape(-1)
    max1, index1 = (float(v) for v in torch.max(flat, 0))
    row1, col1 = divmod(int(index1), width)
    disp1 = (float(col1 - center[1]), float(row1 - center[0]))
    if max1 < params.target_not_found_threshold:
        return Localization(disp1, NOT_FOUND, max1)
    neigh_w = params.target_neighborhood_scale * target_size[0]
    neigh_h = params.target_neighborhood_scale * target_size[1]
    top, bottom = max(round(row1 - neigh_h / 2), 0), min(round(row1 + neigh_h / 2 + 1), height)
    left, right = max(round(col1 - neigh_w / 2), 0), min(round(col1 + neigh_w / 2 + 1), width)
    masked = scores.clone()
    masked[top:bottom, left:right] = 0
    max2, index2 = (float(v) for v in torch.max(masked.reshape(-1), 0))
    row2, col2 = divmod(int(index2), width)
    disp2 = (float(col2 - center[1]), float(row2 - center[0]))
    if max2 > params.distractor_threshold * max1:
        threshold = params.displacement_scale * math.sqrt(height * width) / 2
        norm1, norm2 = math.hypot(*disp1), math.hypot(*disp2)
        if norm1 < threshold < norm2:
            return Localization(disp1, HARD_NEGATIVE, max1)
        if norm2 < threshold < norm1:
            return Localization(disp2, HARD_NEGATIVE, max1)
        return Localization(disp1, UNCERTAIN, max1)
    if max2 > params.hard_negative_threshold * max1 and max2 > params.target_not_found_threshold:
        return Localization(disp1, HARD_NEGATIVE, max1)
    return Localization(disp1, None, max1)
