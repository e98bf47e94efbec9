"""What goes wrong on a sequence: the target lost, the box drifting off its centre, or the box at the wrong scale.

Measured on the frames with a ground-truth box (finite, positive size), all boxes (x, y, w, h) in one convention:

* ``lost``: percent of those frames whose predicted centre is more than one target size (the ground truth's
  sqrt(w h)) from the true centre;
* ``drift``: the median centre error, in target sizes, on the other (kept) frames;
* ``size_ratio``: the geometric mean of sqrt(w h) predicted / true on the kept frames (1 = right scale, 0.5 = half
  the size).

``failure_mode`` names the largest of the three against its threshold (``LOST``, ``DRIFT``, ``SCALE``), or None.
"""
from __future__ import annotations

import math

import numpy as np

from ltr.dataset.base import box_validity

#: a sequence counts as "lost" beyond this percent of lost frames, as "drift" beyond this median centre error (target
#: sizes) and as "scale" where the kept boxes are this factor too large or too small
LOST, DRIFT, SCALE = 20.0, 0.25, 1.25


def failure_measures(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """``lost`` (percent), ``drift`` (target sizes) and ``size_ratio`` of [N, 4] predictions against [N, 4] ground
    truth (NaN rows: no box); ``drift`` and ``size_ratio`` are NaN without kept frames, everything NaN without a
    ground-truth box."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or gt.ndim != 2 or gt.shape[1] != 4:
        raise ValueError(f"need two [N, 4] box arrays of one shape, got {pred.shape} and {gt.shape}")
    valid = box_validity(gt)
    if not valid.any():
        return {"lost": math.nan, "drift": math.nan, "size_ratio": math.nan}
    pred, gt = pred[valid], gt[valid]
    true_size = np.sqrt(gt[:, 2] * gt[:, 3])
    error = np.linalg.norm((pred[:, :2] + pred[:, 2:] / 2) - (gt[:, :2] + gt[:, 2:] / 2), axis=1) / true_size
    kept = error <= 1.0
    lost = 100.0 * float(np.mean(~kept))
    if not kept.any():
        return {"lost": lost, "drift": math.nan, "size_ratio": math.nan}
    ratio = np.sqrt(np.clip(pred[kept, 2] * pred[kept, 3], 1e-12, None)) / true_size[kept]
    return {"lost": lost, "drift": float(np.median(error[kept])), "size_ratio": float(np.exp(np.mean(np.log(ratio))))}


def failure_mode(measures: dict[str, float]) -> str | None:
    """"lost", "drift" or "scale": the measure furthest past its threshold (as a multiple of it); None if none is."""
    excess = {
        "lost": measures["lost"] / LOST,
        "drift": measures["drift"] / DRIFT,
        "scale": abs(math.log(measures["size_ratio"])) / math.log(SCALE),
    }
    excess = {mode: value for mode, value in excess.items() if math.isfinite(value) and value > 1.0}
    return max(excess, key=excess.get) if excess else None
