"""``experiments/refinement_transfer.py``: the size statistics and their pooling, against hand-computed values."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ltr.admin.loading import load_network
from pytracking.demo import demo_sequence
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.weights import bundled_model_path


@pytest.fixture(scope="module")
def transfer(import_script):
    return import_script("experiments/refinement_transfer")


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


@pytest.mark.slow
@pytest.mark.skipif(not bundled_model_path().is_file(), reason="bundled default model not present")
def test_bundled_model_refinement_improves_boxes_on_held_out_real_video(transfer):
    """Real ground truth: on Couple (never trained on) S1 moves perturbed boxes closer to the truth and corrects
    their size. A refinement that leaves the boxes alone scores exactly 'before' and keeps all of the size error."""
    net = load_network(bundled_model_path())
    stats = transfer.evaluate_sequence(net, get_parameters("always_refine"), demo_sequence(), frame_step=10,
                                       perturbations=3)
    assert stats["samples"] == 39  # frames 10, 20, ..., 130, three estimates each
    assert stats["iou_after"] >= stats["iou_before"] + 0.04, stats
    assert stats["size_error_kept"] <= 0.6, stats
