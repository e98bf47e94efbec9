"""Failure measures against hand-built tracks."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pytracking.analysis.failures import failure_measures, failure_mode


def test_lost_drift_and_scale_of_a_hand_built_track():
    gt = np.array([[0, 0, 10, 10], [10, 0, 10, 10], [20, 0, 10, 10], [30, 0, 10, 10], [np.nan] * 4], dtype=float)
    pred = np.array([
        [2.5, 2.5, 5, 5],      # centred, half the size
        [12.5, 2.5 + 3, 5, 5],  # 3 px (0.3 sizes) off, half the size
        [40, 0, 10, 10],        # 20 px = 2 sizes off: lost
        [32.5, 2.5, 5, 5],      # centred, half the size
        [0, 0, 1, 1],           # no ground truth: not counted
    ])
    measures = failure_measures(pred, gt)
    assert measures["lost"] == pytest.approx(25.0)
    assert measures["drift"] == pytest.approx(0.0)  # median of 0, 0.3, 0
    assert measures["size_ratio"] == pytest.approx(0.5)
    assert failure_mode(measures) == "scale"  # |ln 0.5| / ln 1.25 = 3.1 beats 25 / 20


def test_modes_and_edge_cases():
    assert failure_mode({"lost": 60.0, "drift": 0.1, "size_ratio": 0.7}) == "lost"
    assert failure_mode({"lost": 0.0, "drift": 0.4, "size_ratio": 1.1}) == "drift"
    assert failure_mode({"lost": 10.0, "drift": 0.1, "size_ratio": 1.2}) is None
    gt = np.array([[0, 0, 10, 10]], dtype=float)
    everything_lost = failure_measures(np.array([[50.0, 50.0, 10.0, 10.0]]), gt)
    assert everything_lost["lost"] == 100.0 and math.isnan(everything_lost["size_ratio"])
    assert failure_mode(everything_lost) == "lost"
    assert math.isnan(failure_measures(gt, np.full((1, 4), np.nan))["lost"])
    with pytest.raises(ValueError, match=r"\[N, 4\]"):
        failure_measures(gt, np.zeros((2, 4)))
