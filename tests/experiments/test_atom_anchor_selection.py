"""``experiments/atom_anchor_selection.py``: which raw rows stand for which clip frame, against the ground truth."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import SHARED

TRAIN = SHARED / "data" / "train" / "sequences" / "OTB100"
PERFECT_AUC = 100.0 * 20 / 21  # IoU 1 passes every success threshold but the last (1.0, strictly greater)


@pytest.fixture(scope="module")
def anchor(import_script):
    return import_script("experiments/atom_anchor_selection")


def test_clip_rows_are_every_step_th_source_frame_from_the_first(anchor):
    raw = np.arange(40, dtype=float).repeat(4).reshape(-1, 4)  # row k holds k
    assert anchor.clip_rows(raw, 4, 3, "x")[:, 0].tolist() == [0.0, 4.0, 8.0]
    assert anchor.clip_rows(raw, 13, 4, "x")[:, 0].tolist() == [0.0, 13.0, 26.0, 39.0]
    with pytest.raises(ValueError, match="x: 40 result rows, the clip needs source frame 53"):
        anchor.clip_rows(raw, 13, 5, "x")


def test_median_size_ratio_skips_the_first_frame(anchor):
    gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    pred = np.array([[0, 0, 99, 99], [0, 0, 20, 20], [0, 0, 10, 40], [0, 0, 5, 5]], dtype=float)
    assert anchor.median_size_ratio(pred, gt) == pytest.approx(2.0)  # median of 2, 2, 0.5


def _full_rate_results(folder, name: str, step: int, offset: int = 0) -> None:
    """Raw results whose source frame k * step + 1 holds the clip's ground truth of frame k (shifted by
    ``offset`` frames), and a box far from the target elsewhere."""
    gt = np.loadtxt(TRAIN / name / "groundtruth.txt", delimiter=",", ndmin=2)
    raw = np.tile([1.0, 1.0, 2.0, 2.0], (len(gt) * step + 1, 1))
    raw[np.arange(len(gt)) * step + offset] = gt
    np.savetxt(folder / f"{name.lower()}.txt", raw, fmt="%.0f", delimiter=",")


@pytest.mark.skipif(not TRAIN.is_dir(), reason=f"shared training sequences not found at {TRAIN}")
def test_results_holding_the_ground_truth_at_the_clip_frames_score_perfectly(anchor, tmp_path):
    for name, step in anchor.SOURCE_FRAME_STEP.items():
        _full_rate_results(tmp_path, name, step)
    ours = {name: {"auc": 50.0, "op75": 10.0, "size_ratio": 1.0} for name in anchor.SOURCE_FRAME_STEP}
    rows = anchor.compare(tmp_path, {"results": [{"variant": "default", "per_sequence": ours}]}, SHARED / "data")
    assert set(rows) == set(anchor.SOURCE_FRAME_STEP)
    for row in rows.values():
        assert row["anchor"]["auc"] == pytest.approx(PERFECT_AUC)
        assert row["anchor"]["size_ratio"] == pytest.approx(1.0)
    assert anchor.summary(rows)["all"] == pytest.approx({"anchor": PERFECT_AUC, "ours": 50.0})
    # one source frame late: every clip frame gets the far box
    _full_rate_results(tmp_path, "Vase", 10, offset=1)
    vase = anchor.compare(tmp_path, {"results": [{"variant": "default", "per_sequence": ours}]}, SHARED / "data")
    assert vase["Vase"]["anchor"]["auc"] < 10.0


def test_a_missing_results_file_is_a_one_line_exit_2(anchor, tmp_path, capsys):
    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps({"results": [{"variant": "default", "per_sequence": {}}]}))
    code = anchor.main(["--atom-dir", str(tmp_path), "--sweep", str(sweep), "--data-root", str(SHARED / "data")])
    error = capsys.readouterr().err
    if not TRAIN.is_dir():  # no data: the data root is the missing file
        assert code == 2 and error.count("\n") == 1
        return
    assert code == 2
    assert error.count("\n") == 1 and "no results file for" in error and str(tmp_path) in error
