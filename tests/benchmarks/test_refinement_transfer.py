"""``benchmarks/refinement_transfer.py``: the size statistics and their pooling, against hand-computed values."""
from __future__ import annotations

import math

import numpy as np
import pytest


@pytest.fixture(scope="module")
def transfer(import_benchmark):
    return import_benchmark("refinement_transfer")


def test_pooled_weights_by_samples_and_pools_sizes_geometrically(transfer):
    stats = [{"samples": 1, "iou_before": 0.5, "iou_after": 0.8, "improved": 1.0, "size_ratio_after": 0.5,
              "size_error_kept": 0.2},
             {"samples": 3, "iou_before": 0.7, "iou_after": 0.6, "improved": 0.0, "size_ratio_after": 2.0,
              "size_error_kept": 0.6}]
    pooled = transfer.pooled(stats)
    assert pooled["samples"] == 4
    assert pooled["iou_before"] == pytest.approx((0.5 + 3 * 0.7) / 4)
    assert pooled["iou_after"] == pytest.approx((0.8 + 3 * 0.6) / 4)
    assert pooled["improved"] == pytest.approx(0.25)
    assert pooled["size_error_kept"] == pytest.approx((0.2 + 3 * 0.6) / 4)
    # geometric mean over the 4 estimates: (0.5 * 2 * 2 * 2) ** (1 / 4)
    assert pooled["size_ratio_after"] == pytest.approx(math.pow(4.0, 0.25))


def test_size_error_kept_is_the_share_of_the_log_size_error_left_after_refinement(transfer):
    rng = np.random.default_rng(0)
    log_before = rng.normal(0.0, 0.1, 50)
    # refinement that keeps half of each error and adds a constant bias: slope 0.5 whatever the bias
    assert transfer.size_error_kept(log_before, 0.5 * log_before - 0.1) == pytest.approx(0.5)
    assert transfer.size_error_kept(log_before, log_before) == pytest.approx(1.0)  # size untouched
    # sizes set to the truth up to noise that ignores the start: slope near 0 (standard error 0.02 / (0.1 sqrt(50)))
    assert abs(transfer.size_error_kept(log_before, rng.normal(0.0, 0.02, 50))) < 0.12
