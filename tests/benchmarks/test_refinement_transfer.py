"""``benchmarks/refinement_transfer.py``: the pooled statistics, sizes included, against hand-computed values."""
from __future__ import annotations

import math

import pytest


@pytest.fixture(scope="module")
def transfer(import_benchmark):
    return import_benchmark("refinement_transfer")


def test_pooled_weights_by_samples_and_pools_sizes_geometrically(transfer):
    stats = [{"samples": 1, "iou_before": 0.5, "iou_after": 0.8, "improved": 1.0, "size_ratio_after": 0.5},
             {"samples": 3, "iou_before": 0.7, "iou_after": 0.6, "improved": 0.0, "size_ratio_after": 2.0}]
    pooled = transfer.pooled(stats)
    assert pooled["samples"] == 4
    assert pooled["iou_before"] == pytest.approx((0.5 + 3 * 0.7) / 4)
    assert pooled["iou_after"] == pytest.approx((0.8 + 3 * 0.6) / 4)
    assert pooled["improved"] == pytest.approx(0.25)
    # geometric mean over the 4 estimates: (0.5 * 2 * 2 * 2) ** (1 / 4)
    assert pooled["size_ratio_after"] == pytest.approx(math.pow(4.0, 0.25))
