"""Metric tests: hand-computed cases for every pytracking-protocol rule, the got10k package for protocol got10k."""
from __future__ import annotations

import numpy as np
import pytest

from pytracking.analysis.metrics import dataset_metrics, one_based, sequence_metrics

GT_BOX = [11.0, 21.0, 10.0, 10.0]  # area 100


def _success_at(result: dict, threshold_index: int) -> float:
    return result["success_curve"][threshold_index]


def test_hand_computed_overlaps_and_curves():
    # frame 0 is replaced by the ground truth whatever we predict there -> overlap 1.
    # frame 1: shifted by 5 px in x: intersection 5x10 = 50, union 150 -> 1/3.
    # frame 2: half the width: 50 / 100 = 0.5 exactly (strict > : not a success at t = 0.50).
    # frame 3: 7.5 px wide: 75 / 100 = 0.75 exactly (not a success at index 15, the float 0.7500000000000001).
    gt = np.array([GT_BOX] * 4)
    pred = np.array([[500.0, 500.0, 3.0, 3.0], [16.0, 21.0, 10.0, 10.0], [11.0, 21.0, 5.0, 10.0], [11.0, 21.0, 7.5, 10.0]])
    result = sequence_metrics(pred, gt, dataset="otb")
    overlaps = [1.0, 1.0 / 3.0, 0.5, 0.75]
    expected = [100.0 * sum(o > 0.05 * i for o in overlaps) / 4 for i in range(21)]
    np.testing.assert_allclose(result["success_curve"], expected)
    assert result["op50"] == pytest.approx(50.0)  # frames 0 and 3 only
    assert result["op75"] == pytest.approx(25.0)  # frame 0 only
    assert result["auc"] == pytest.approx(np.mean(expected))
    assert result["avg_overlap"] == pytest.approx(100.0 * np.mean(overlaps))
    # centres (inclusive convention x + (w - 1) / 2): gt centre (15.5, 25.5);
    # frame 1 centre (20.5, 25.5) -> 5 px; frame 2 (13.0, 25.5) -> 2.5 px; frame 3 (14.25, 25.5) -> 1.25 px
    errors = [0.0, 5.0, 2.5, 1.25]
    np.testing.assert_allclose(result["precision_curve"], [100.0 * sum(e <= d for e in errors) / 4 for d in range(51)])
    # normalised by gt (10, 10): 0, 0.5, 0.25, 0.125
    norm = [0.0, 0.5, 0.25, 0.125]
    np.testing.assert_allclose(result["norm_precision_curve"], [100.0 * sum(e <= i / 100 for e in norm) / 4 for i in range(51)])
    assert result["norm_precision"] == pytest.approx(50.0)  # 0 and 0.125 <= 0.20


def test_precision_threshold_is_inclusive_at_20px():
    gt = np.array([GT_BOX, GT_BOX])
    pred = np.array([GT_BOX, [31.0, 21.0, 10.0, 10.0]])  # centre shifted by exactly 20 px
    result = sequence_metrics(pred, gt, dataset="otb")
    assert result["precision"] == pytest.approx(100.0)
    assert result["precision_curve"][19] == pytest.approx(50.0)


def test_uav_invalid_frames_fail_success_but_pass_precision():
    gt = np.array([GT_BOX, [np.nan] * 4, GT_BOX, [0.0, 5.0, 10.0, 10.0]])  # x = 0 is invalid too (all four > 0)
    pred = np.array([GT_BOX, [300.0, 300.0, 10.0, 10.0], [300.0, 300.0, 10.0, 10.0], [0.0, 5.0, 10.0, 10.0]])
    result = sequence_metrics(pred, gt, dataset="uav123")
    # overlaps [1, -1, 0, -1]: only frame 0 succeeds at t = 0, denominator is all 4 frames
    assert result["success_curve"][0] == pytest.approx(25.0)
    assert result["num_valid"] == 2
    # centre errors [0, -1, far, -1]: three frames within every threshold, even 0 px
    assert result["precision_curve"][0] == pytest.approx(75.0)
    assert result["norm_precision_curve"][0] == pytest.approx(75.0)


def test_invalid_frames_elsewhere_have_infinite_centre_error():
    gt = np.array([GT_BOX, [11.0, 21.0, 0.0, 10.0]])
    pred = np.array([GT_BOX, [11.0, 21.0, 5.0, 10.0]])
    result = sequence_metrics(pred, gt, dataset="otb")
    assert result["precision_curve"][50] == pytest.approx(50.0)
    assert result["norm_precision_curve"][0] == pytest.approx(100.0)  # normalised error is -1 everywhere
    assert result["success_curve"][0] == pytest.approx(50.0)


def test_nan_ground_truth_is_an_error_outside_uav():
    with pytest.raises(ValueError, match="NaN"):
        sequence_metrics(np.array([GT_BOX, GT_BOX]), np.array([GT_BOX, [np.nan] * 4]), dataset="otb")


def test_target_visible_marks_frames_invalid():
    gt = np.array([GT_BOX, GT_BOX])
    result = sequence_metrics(gt.copy(), gt, dataset="lasot", target_visible=np.array([True, False]))
    assert result["success_curve"][0] == pytest.approx(50.0)
    assert result["precision_curve"][50] == pytest.approx(50.0)


def test_zero_size_prediction_takes_previous_box():
    gt = np.array([GT_BOX, GT_BOX, GT_BOX])
    pred = np.array([GT_BOX, [16.0, 21.0, 10.0, 10.0], [0.0, 0.0, 0.0, 7.0]])
    result = sequence_metrics(pred, gt, dataset="otb")
    # frame 2 becomes frame 1's box: overlaps [1, 1/3, 1/3]
    assert result["success_curve"][6] == pytest.approx(100.0)  # t = 0.30
    assert result["success_curve"][7] == pytest.approx(100.0 / 3)  # t = 0.35


def test_length_mismatch_cut_and_zero_padded():
    gt = np.array([GT_BOX] * 4)
    longer = sequence_metrics(np.array([GT_BOX] * 6), gt, dataset="otb")
    assert longer["success_curve"][0] == pytest.approx(100.0)
    shorter = sequence_metrics(np.array([GT_BOX] * 2), gt, dataset="otb")
    assert shorter["success_curve"][0] == pytest.approx(50.0)  # padded zero boxes overlap 0
    # zero box centre (-0.5, -0.5) vs (15.5, 25.5): ~30.5 px -> fails at 20, passes at 31
    assert shorter["precision_curve"][20] == pytest.approx(50.0)
    assert shorter["precision_curve"][31] == pytest.approx(100.0)


@pytest.mark.parametrize("bad", [[np.nan, 1.0, 2.0, 3.0], [1.0, 1.0, -2.0, 3.0]])
def test_bad_predictions_raise(bad):
    with pytest.raises(ValueError):
        sequence_metrics(np.array([GT_BOX, bad]), np.array([GT_BOX, GT_BOX]), dataset="uav123")


def test_dataset_average_of_curves():
    gt = np.array([GT_BOX] * 2)
    perfect = sequence_metrics(gt.copy(), gt, dataset="otb")
    half = sequence_metrics(np.array([GT_BOX, [200.0, 200.0, 10.0, 10.0]]), gt, dataset="otb")
    total = dataset_metrics([perfect, half])
    # success curves: perfect [100]*20 + [0]; half [50]*20 + [0] -> mean 75 for t < 1
    assert total["op50"] == pytest.approx(75.0)
    assert total["auc"] == pytest.approx(75.0 * 20 / 21)
    assert total["num_sequences"] == 2


# ---------------------------------------------------------------- protocol got10k vs the got10k package

got10k_metrics = pytest.importorskip("got10k.utils.metrics", reason="the got10k test dependency is not installed")


def _got10k_reference(pred: np.ndarray, gt: np.ndarray, uav: bool) -> tuple[np.ndarray, np.ndarray]:
    """Success / precision curves (percent) computed with the got10k package the way its experiments do."""
    pred = pred.copy()
    pred[0] = gt[0]
    if uav:
        keep = ~np.any(np.isnan(gt), axis=1)
        pred, gt = pred[keep], gt[keep]
    ious = got10k_metrics.rect_iou(pred, gt)[:, None]
    errors = got10k_metrics.center_error(pred, gt)[:, None]
    success = np.mean(ious > np.linspace(0, 1, 21)[None, :], axis=0)
    precision = np.mean(errors <= np.arange(0, 51)[None, :], axis=0)
    return 100.0 * success, 100.0 * precision


def _random_sequence(rng: np.random.Generator, n: int, integer: bool) -> tuple[np.ndarray, np.ndarray]:
    gt = np.column_stack([rng.uniform(1, 200, n), rng.uniform(1, 200, n), rng.uniform(5, 60, n), rng.uniform(5, 60, n)])
    pred = gt + rng.normal(0, 8, (n, 4))
    pred[:, 2:] = np.abs(pred[:, 2:]) + 1
    if integer:
        gt, pred = np.round(gt), np.round(pred)
    return pred, gt


@pytest.mark.parametrize("dataset,uav", [("otb", False), ("uav123", True)])
@pytest.mark.parametrize("integer", [False, True])
def test_got10k_protocol_matches_package(dataset, uav, integer):
    rng = np.random.default_rng(3 + integer)
    pred, gt = _random_sequence(rng, 60, integer)
    if uav:
        gt[[5, 6, 30]] = np.nan
    result = sequence_metrics(pred, gt, dataset=dataset, protocol="got10k")
    success, precision = _got10k_reference(pred, gt, uav)
    np.testing.assert_allclose(result["success_curve"], success, atol=1e-9)
    np.testing.assert_allclose(result["precision_curve"], precision, atol=1e-9)
    assert result["auc"] == pytest.approx(np.mean(success))
    assert result["op50"] == pytest.approx(success[10])
    assert result["precision"] == pytest.approx(precision[20])


def test_got10k_protocol_exact_075_overlap_counts_like_the_package():
    gt = np.array([GT_BOX, GT_BOX])
    pred = np.array([GT_BOX, [11.0, 21.0, 8.0, 10.0]])  # IoU 0.8
    result = sequence_metrics(pred, gt, dataset="otb", protocol="got10k")
    success, _ = _got10k_reference(pred, gt, uav=False)
    assert result["op75"] == pytest.approx(success[15]) == pytest.approx(100.0)


def test_unknown_protocol():
    with pytest.raises(ValueError, match="protocol"):
        sequence_metrics(np.array([GT_BOX]), np.array([GT_BOX]), protocol="pysot")


def test_zero_based_boxes_at_the_border_stay_valid_once_one_based():
    # a perfect track of a 0-based box that touches the top border: as loaded, the pytracking rule (x, y > 0) drops
    # that frame; moved to 1-based it counts, with the same overlaps (20 of the 21 thresholds hold at IoU 1)
    gt = np.array([[5.0, 0.0, 10.0, 8.0], [6.0, 2.0, 10.0, 8.0]])
    assert sequence_metrics(gt, gt)["num_valid"] == 1
    shifted = sequence_metrics(one_based(gt, 0.0), one_based(gt, 0.0))
    assert shifted["num_valid"] == 2
    assert shifted["auc"] == pytest.approx(100.0 * 20 / 21)
    np.testing.assert_array_equal(one_based(gt, 1.0), gt)
