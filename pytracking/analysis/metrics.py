"""One-pass evaluation (OPE) metrics: success / precision / normalised-precision curves and their scores.

Two protocols:

``pytracking`` (default) reproduces the pytracking analysis, quirks included:
    * frame 0 of the prediction is replaced by the ground truth;
    * NaN or negative-size predictions are an error; NaN ground truth is an error except on UAV123;
    * a zero-size prediction takes the previous predicted box (where the ground truth is not NaN);
    * a prediction longer than the ground truth is cut, a shorter one padded with zero boxes;
    * IoU and centres in the inclusive-pixel convention (x2 = x + w - 1, centre = x + (w - 1) / 2);
    * a frame is valid when all four ground-truth values are > 0 and the target is visible (if known);
      invalid frames get overlap -1 (never a success), normalised centre error -1 (always a precision
      success) and centre error -1 on UAV123 (always a success) but +inf elsewhere;
    * every curve is divided by the full sequence length.

``got10k`` follows the got10k toolkit's OTB / UAV123 experiments: continuous-coordinate IoU clipped to [0, 1];
on UAV123 frames with a NaN ground-truth value are dropped (curves divided by the number of kept frames),
elsewhere they count as failures; predictions must have the ground truth's length; the overlap thresholds
are ``np.linspace(0, 1, 21)`` (0.75 exactly).

Both: success(t) = fraction of frames with overlap > t for t = 0, 0.05, ..., 1 (21 values); AUC = mean of
the success curve; OP50 / OP75 = success at t = 0.50 / 0.75 (indices 10 / 15); precision(d) = fraction with
centre error <= d px for d = 0..50, score at 20 px; normalised precision: centre error divided by the
ground-truth (w, h), d = 0..0.50 step 0.01, score at 0.20. All scores and curves are in percent.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

PROTOCOLS = ("pytracking", "got10k")
UAV_DATASETS = ("uav", "uav123", "uav123_10fps")

#: 21 overlap thresholds, computed as i * 0.05 in float64 like the reference (index 15 is 0.7500000000000001)
SUCCESS_THRESHOLDS = np.arange(21, dtype=np.float64) * 0.05
#: the got10k toolkit's overlap thresholds (np.linspace: index 15 is exactly 0.75)
GOT10K_SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
#: centre-error thresholds 0..50 px
PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64)
#: normalised centre-error thresholds 0..0.50
NORM_PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64) / 100.0
OP50_INDEX, OP75_INDEX, PRECISION_INDEX, NORM_PRECISION_INDEX = 10, 15, 20, 20


def scoring_dataset(dataset: str, ground_truth: np.ndarray) -> str:
    """The data-set key to score a sequence of ``dataset`` with: ground truth with NaN rows (target absent, e.g. VOT-LT
    or DAVIS clips, whose own protocols are not implemented here) is scored by the UAV123 rules, ``dataset`` else."""
    return "uav123" if np.isnan(np.asarray(ground_truth, dtype=np.float64)).any() else dataset


def one_based(boxes: np.ndarray, box_origin: float) -> np.ndarray:
    """[N, 4] (x, y, w, h) boxes moved from a ``box_origin``-based pixel convention to the 1-based one.

    The pytracking protocol takes a ground-truth box with x or y <= 0 as invalid, a rule made for 1-based files:
    0-based ground truth (DAVIS clips, VOT) scored as it is loses every frame whose box touches the left or top
    border. Score such sequences with prediction and ground truth both shifted; overlaps and centre errors do not
    change under the shift.
    """
    return np.asarray(boxes, dtype=np.float64) + np.array([1.0 - box_origin, 1.0 - box_origin, 0.0, 0.0])


def _as_boxes(boxes: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"{what} must be an [N, 4] array of (x, y, w, h), got shape {array.shape}")
    return array.copy()


def iou_inclusive(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of [N, 4] (x, y, w, h) boxes with inclusive pixel corners (x2 = x + w - 1); NaN where undefined."""
    tl = np.maximum(pred[:, :2], gt[:, :2])
    br = np.minimum(pred[:, :2] + pred[:, 2:] - 1.0, gt[:, :2] + gt[:, 2:] - 1.0)
    size = np.clip(br - tl + 1.0, 0.0, None)
    intersection = size[:, 0] * size[:, 1]
    union = pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        return intersection / union


def iou_continuous(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of [N, 4] (x, y, w, h) boxes as continuous rectangles, clipped to [0, 1] (got10k convention)."""
    tl = np.maximum(pred[:, :2], gt[:, :2])
    br = np.minimum(pred[:, :2] + pred[:, 2:], gt[:, :2] + gt[:, 2:])
    size = np.clip(br - tl, 0.0, None)
    intersection = size[:, 0] * size[:, 1]
    union = pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - intersection
    return np.clip(intersection / (union + np.finfo(np.float64).eps), 0.0, 1.0)


def centre_offsets(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """[N, 2] difference of box centres, centre = (x, y) + ((w, h) - 1) / 2."""
    return (pred[:, :2] + (pred[:, 2:] - 1.0) / 2.0) - (gt[:, :2] + (gt[:, 2:] - 1.0) / 2.0)


def _normalised_centre_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Distance of the centres after dividing both by the ground-truth (w, h)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        centre_pred = (pred[:, :2] + (pred[:, 2:] - 1.0) / 2.0) / gt[:, 2:]
        centre_gt = (gt[:, :2] + (gt[:, 2:] - 1.0) / 2.0) / gt[:, 2:]
        return np.linalg.norm(centre_pred - centre_gt, axis=1)


def _errors_pytracking(
    pred: np.ndarray, gt: np.ndarray, dataset: str, target_visible: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame (overlap, centre error, normalised centre error, valid) with the pytracking rules."""
    is_uav = dataset in UAV_DATASETS
    if np.isnan(pred).any():
        raise ValueError("prediction contains NaN values")
    if (pred[:, 2:] < 0).any():
        raise ValueError("prediction contains negative width or height")
    gt_nan = np.isnan(gt).any(axis=1)
    if gt_nan.any() and not is_uav:
        raise ValueError(f"ground truth contains NaN rows (frames {np.flatnonzero(gt_nan)[:5].tolist()}...) on data set '{dataset}'")
    num_frames = len(gt)
    for i in range(1, min(len(pred), num_frames)):
        if (pred[i, 2:] == 0).any() and not gt_nan[i]:
            pred[i] = pred[i - 1]
    if len(pred) > num_frames:
        pred = pred[:num_frames]
    elif len(pred) < num_frames:
        pred = np.concatenate([pred, np.zeros((num_frames - len(pred), 4))])
    pred[0] = gt[0]

    with np.errstate(invalid="ignore"):
        valid = np.all(gt > 0, axis=1)
    if target_visible is not None:
        visible = np.asarray(target_visible, dtype=bool).reshape(-1)
        if len(visible) != num_frames:
            raise ValueError(f"target_visible has {len(visible)} entries for {num_frames} frames")
        valid &= visible
    overlap = iou_inclusive(pred, gt)
    centre_error = np.linalg.norm(centre_offsets(pred, gt), axis=1)
    norm_error = _normalised_centre_error(pred, gt)
    overlap[~valid] = -1.0
    centre_error[~valid] = -1.0 if is_uav else np.inf
    norm_error[~valid] = -1.0
    if np.isnan(overlap).any():
        raise ValueError("NaN in the computed overlaps")
    return overlap, centre_error, norm_error, valid


def _errors_got10k(pred: np.ndarray, gt: np.ndarray, dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame (overlap, centre error, normalised centre error, kept) with the got10k toolkit rules."""
    if len(pred) != len(gt):
        raise ValueError(f"prediction has {len(pred)} rows but the ground truth has {len(gt)}")
    if np.isnan(pred).any():
        raise ValueError("prediction contains NaN values")
    pred[0] = gt[0]
    if dataset in UAV_DATASETS:
        kept = ~np.isnan(gt).any(axis=1)
    else:
        kept = np.ones(len(gt), dtype=bool)
    pred, gt = pred[kept], gt[kept]
    with np.errstate(invalid="ignore"):
        overlap = iou_continuous(pred, gt)
    centre_error = np.linalg.norm(centre_offsets(pred, gt), axis=1)
    return overlap, centre_error, _normalised_centre_error(pred, gt), kept


def _curve(values: np.ndarray, thresholds: np.ndarray, strictly_greater: bool, denominator: int) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        hits = values[:, None] > thresholds[None, :] if strictly_greater else values[:, None] <= thresholds[None, :]
    return 100.0 * hits.sum(axis=0) / max(denominator, 1)


def scores_from_curves(success: np.ndarray, precision: np.ndarray, norm_precision: np.ndarray) -> dict[str, float]:
    """AUC, OP50, OP75, precision and normalised precision (percent) from curves in percent."""
    return {
        "auc": float(np.mean(success)),
        "op50": float(success[OP50_INDEX]),
        "op75": float(success[OP75_INDEX]),
        "precision": float(precision[PRECISION_INDEX]),
        "norm_precision": float(norm_precision[NORM_PRECISION_INDEX]),
    }


def sequence_metrics(
    pred: np.ndarray,
    gt: np.ndarray,
    dataset: str = "uav123",
    protocol: str = "pytracking",
    target_visible: np.ndarray | None = None,
) -> dict:
    """Metrics of one sequence.

    Args:
        pred: predicted boxes float [M, 4] (x, y, w, h), same convention as ``gt``.
        gt: ground truth float [N, 4] (x, y, w, h), NaN rows = target absent.
        dataset: data-set key; UAV123 keys (``uav123``, ``uav123_10fps``, ``uav``) switch on the UAV rules.
        protocol: ``"pytracking"`` or ``"got10k"`` (see the module docstring).
        target_visible: optional bool [N] (pytracking protocol only).

    Returns:
        dict with ``auc``, ``op50``, ``op75``, ``precision``, ``norm_precision`` (percent), the curves
        ``success_curve`` [21], ``precision_curve`` [51], ``norm_precision_curve`` [51] (percent), their
        thresholds (``success_thresholds``, ``precision_thresholds``, ``norm_precision_thresholds``),
        ``avg_overlap`` (mean overlap of the valid frames, percent), ``num_frames`` and ``num_valid``.

    Raises:
        ValueError: bad shapes, NaN / negative-size predictions, unknown protocol (and the protocol's other errors).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol '{protocol}'; valid: {', '.join(PROTOCOLS)}")
    pred = _as_boxes(pred, "prediction")
    gt = _as_boxes(gt, "ground truth")
    if len(gt) == 0:
        raise ValueError("ground truth is empty")
    if protocol == "pytracking":
        overlap, centre_error, norm_error, valid = _errors_pytracking(pred, gt, dataset, target_visible)
        denominator = len(gt)
        valid_overlap = overlap[valid]
        success_thresholds = SUCCESS_THRESHOLDS
    else:
        overlap, centre_error, norm_error, valid = _errors_got10k(pred, gt, dataset)
        denominator = len(overlap)
        valid_overlap = overlap[~np.isnan(overlap)]
        success_thresholds = GOT10K_SUCCESS_THRESHOLDS
    success = _curve(overlap, success_thresholds, True, denominator)
    precision = _curve(centre_error, PRECISION_THRESHOLDS, False, denominator)
    norm_precision = _curve(norm_error, NORM_PRECISION_THRESHOLDS, False, denominator)
    result = scores_from_curves(success, precision, norm_precision)
    result.update(
        success_curve=success,
        precision_curve=precision,
        norm_precision_curve=norm_precision,
        success_thresholds=success_thresholds.copy(),
        precision_thresholds=PRECISION_THRESHOLDS.copy(),
        norm_precision_thresholds=NORM_PRECISION_THRESHOLDS.copy(),
        avg_overlap=float(100.0 * valid_overlap.mean()) if len(valid_overlap) else float("nan"),
        num_frames=int(len(gt)),
        num_valid=int(valid.sum()),
    )
    return result


def dataset_metrics(per_sequence: Iterable[dict]) -> dict:
    """Data-set metrics: the per-sequence curves averaged (each sequence weighs the same), scores recomputed.

    Returns the same keys as ``sequence_metrics`` (``avg_overlap`` averaged over sequences,
    ``num_frames`` / ``num_valid`` summed) plus ``num_sequences``.
    """
    items = list(per_sequence)
    if not items:
        raise ValueError("no sequences to average")
    success = np.mean([m["success_curve"] for m in items], axis=0)
    precision = np.mean([m["precision_curve"] for m in items], axis=0)
    norm_precision = np.mean([m["norm_precision_curve"] for m in items], axis=0)
    result = scores_from_curves(success, precision, norm_precision)
    result.update(
        success_curve=success,
        precision_curve=precision,
        norm_precision_curve=norm_precision,
        success_thresholds=np.asarray(items[0]["success_thresholds"], dtype=np.float64),
        precision_thresholds=PRECISION_THRESHOLDS.copy(),
        norm_precision_thresholds=NORM_PRECISION_THRESHOLDS.copy(),
        avg_overlap=float(np.nanmean([m["avg_overlap"] for m in items])),
        num_frames=int(sum(m["num_frames"] for m in items)),
        num_valid=int(sum(m["num_valid"] for m in items)),
        num_sequences=len(items),
    )
    return result
