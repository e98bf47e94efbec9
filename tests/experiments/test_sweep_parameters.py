"""``experiments/sweep_parameters.py`` end to end on a few frames of the bundled demo sequence."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from trackers.atom_ebm.weights import bundled_model_path

REPO = Path(__file__).resolve().parents[2]
LIGHT = ["--sweep", "init_gn_iter=1", "init_cg_iter=2", "augment_rotation=()", "augment_blur=()"]


@pytest.fixture(scope="module")
def sweep(import_script):
    return import_script("experiments/sweep_parameters")


def _run(sweep, json_path: Path, *args: str) -> int:
    return sweep.main(["--variants", "no_refine", "--data-root", str(REPO / "pytracking/demo_data"), "--data", "otb:.:Couple",
                       "--max-frames", "4", "--json", str(json_path), *LIGHT, *args])


@pytest.mark.skipif(not bundled_model_path().is_file(), reason="bundled default model not present")
def test_sweep_runs_every_setting_and_seeds_each_sequence(sweep, tmp_path, capsys):
    assert _run(sweep, tmp_path / "grid.json", "--sweep", "learning_rate=0.01,0.03", "--seeds", "2") == 0
    report = capsys.readouterr().out
    assert "Against the first setting" in report and "learning_rate=0.03: " in report
    assert "largest change Couple" in report
    results = json.loads((tmp_path / "grid.json").read_text())["results"]
    assert [r["setting"]["learning_rate"] for r in results] == [0.01, 0.03]
    assert all(len(r["auc_per_run"]) == 2 and 0.0 <= r["auc"] <= 100.0 for r in results)
    light = ", init_gn_iter=1, init_cg_iter=2, augment_rotation=(), augment_blur=()"
    assert [r["variant"] for r in results] == [f"no_refine{light}, learning_rate={v}" for v in ("0.01", "0.03")]
    # one domain ("data"): its mean is the overall score, and the sequence's own AUC
    assert all(r["per_domain"]["data"]["auc"] == r["auc"] == r["per_sequence"]["Couple"]["auc"] for r in results)
    # seed 0 of a 2-seed sweep is the same run as a sweep of that one setting alone (per-sequence seeding)
    assert _run(sweep, tmp_path / "alone.json", "--sweep", "learning_rate=0.03", "--seeds", "1") == 0
    assert json.loads((tmp_path / "alone.json").read_text())["results"][0]["auc_per_run"][0] == results[1]["auc_per_run"][0]


@pytest.mark.skipif(not bundled_model_path().is_file(), reason="bundled default model not present")
def test_a_sweep_value_wins_over_the_variants_own_and_the_label_says_so(sweep, tmp_path):
    assert sweep.main(["--variants", "no_refine:learning_rate=0.01", "--data-root", str(REPO / "pytracking/demo_data"),
                       "--data", "otb:.:Couple", "--max-frames", "3", "--seeds", "1", "--json", str(tmp_path / "r.json"),
                       *LIGHT, "--sweep", "learning_rate=0.03"]) == 0
    (row,) = json.loads((tmp_path / "r.json").read_text())["results"]
    assert row["setting"]["learning_rate"] == 0.03 and row["variant"].endswith(", learning_rate=0.03")


def test_variants_are_parameter_sets_with_overrides(sweep):
    assert sweep.parse_variant("default") == ("default", {})
    assert sweep.parse_variant("default:learning_rate=0.01,augment_shift=((0.6, 0.6),)") == (
        "default", {"learning_rate": 0.01, "augment_shift": ((0.6, 0.6),)})


def test_bad_sweep_is_a_one_line_error(sweep, tmp_path, capsys):
    assert _run(sweep, tmp_path / "bad.json", "--sweep", "learning_rate") == 2
    assert "KEY=V1,V2" in capsys.readouterr().err and not (tmp_path / "bad.json").exists()
    assert _run(sweep, tmp_path / "bad.json", "--sweep", "learning_rat=0.1") == 2
    assert "unknown tracker parameter" in capsys.readouterr().err


def test_values_split_at_top_level_commas_only(sweep):
    grid = sweep.parse_grid(["augment_shift=((0.6, 0.6), (-0.6, 0.6)),()", "box_normalization=own,first"])
    assert grid == [{"augment_shift": ((0.6, 0.6), (-0.6, 0.6)), "box_normalization": "own"},
                    {"augment_shift": ((0.6, 0.6), (-0.6, 0.6)), "box_normalization": "first"},
                    {"augment_shift": (), "box_normalization": "own"},
                    {"augment_shift": (), "box_normalization": "first"}]


def test_back_and_forth_plays_frames_and_boxes_in_turn(sweep):
    import numpy as np

    from ltr.dataset.benchmarks.sequence import Sequence

    boxes = np.arange(16, dtype=np.float64).reshape(4, 4)
    sequence = Sequence("s", ["f0", "f1", "f2", "f3"], boxes, "otb", target_visible=np.array([1, 1, 0, 1], bool))
    played = sweep.played_back_and_forth(sequence, 3)
    order = [0, 1, 2, 3, 2, 1, 0, 1, 2, 3]
    assert played.frames == [f"f{i}" for i in order]
    np.testing.assert_array_equal(played.ground_truth, boxes[order])
    assert played.target_visible.tolist() == [i != 2 for i in order]
    assert sweep.played_back_and_forth(sequence, 1).frames == sequence.frames
    with pytest.raises(ValueError, match="passes >= 1"):
        sweep.played_back_and_forth(sequence, 0)


def test_every_kth_frame_keeps_frames_boxes_and_visibility_in_step(sweep):
    import numpy as np

    from ltr.dataset.benchmarks.sequence import Sequence

    boxes = np.arange(20, dtype=np.float64).reshape(5, 4)
    sequence = Sequence("s", [f"f{i}" for i in range(5)], boxes, "otb", target_visible=np.array([1, 1, 0, 1, 1], bool))
    slower = sweep.every_kth_frame(sequence, 2)
    assert slower.frames == ["f0", "f2", "f4"]
    np.testing.assert_array_equal(slower.ground_truth, boxes[[0, 2, 4]])
    assert slower.target_visible.tolist() == [True, False, True]
    assert sweep.every_kth_frame(sequence, 1).frames == sequence.frames


def test_bad_frame_step_is_a_one_line_error(sweep, tmp_path, capsys):
    assert _run(sweep, tmp_path / "bad.json", "--frame-step", "0") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--repeat-frames must be >= 1" in error and error.rstrip().endswith("2, 1, 0 and 1")
    assert _run(sweep, tmp_path / "bad.json", "--repeat-frames", "0") == 2
    assert capsys.readouterr().err.rstrip().endswith("2, 1, 1 and 0") and not (tmp_path / "bad.json").exists()


def test_repeated_frames_show_each_frame_in_a_row(sweep):
    import numpy as np

    from ltr.dataset.benchmarks.sequence import Sequence

    boxes = np.arange(12, dtype=np.float64).reshape(3, 4)
    sequence = Sequence("s", ["f0", "f1", "f2"], boxes, "otb", target_visible=np.array([1, 0, 1], bool))
    held = sweep.repeated_frames(sequence, 2)
    assert held.frames == ["f0", "f0", "f1", "f1", "f2", "f2"]
    np.testing.assert_array_equal(held.ground_truth, boxes[[0, 0, 1, 1, 2, 2]])
    assert held.target_visible.tolist() == [True, True, False, False, True, True]
    assert sweep.repeated_frames(sequence, 1).frames == sequence.frames


def test_pass_measures_compare_the_first_and_the_last_pass(sweep):
    import numpy as np

    # a 3-frame clip played twice: 5 rows, pass 1 = rows 0-2, pass 2 = rows 2-4; 10 px target
    truth = np.array([[0.0, 0.0, 10.0, 10.0]] * 5)
    track = truth.copy()
    track[3, :2] = 50.0  # pass 2: one of 3 frames off by 5 target sizes
    track[4, 2:] = 20.0  # pass 2: a kept frame at twice the size
    measures = sweep.pass_measures(track, truth, 2)
    assert measures["lost_first_pass"] == 0.0 and measures["lost_last_pass"] == pytest.approx(100 / 3)
    assert measures["size_ratio_first_pass"] == 1.0
    assert measures["size_ratio_last_pass"] == pytest.approx(2.0 ** 0.5)  # geometric mean of 1 and 2


@pytest.mark.parametrize("zoom", [2.0, 0.5])
def test_zoomed_boxes_follow_the_target_in_the_zoomed_frames(sweep, tmp_path, zoom):
    import cv2
    import numpy as np

    from ltr.dataset.benchmarks.sequence import Sequence

    # a white 40 x 20 rectangle moving right on a black 320 x 240 frame; 1-based boxes as in OTB
    frames, boxes = [], []
    for index in range(5):
        image = np.zeros((240, 320, 3), np.uint8)
        left, top = 100 + 10 * index, 110
        image[top:top + 20, left:left + 40] = 255
        path = tmp_path / f"{index}.png"
        cv2.imwrite(str(path), image)
        frames.append(str(path))
        boxes.append([left + 1, top + 1, 40, 20])
    sequence = Sequence("s", frames, np.array(boxes, float), "otb", box_origin=1)
    played = sweep.zoomed(sequence, zoom, tmp_path / "zoomed")
    sizes = played.ground_truth[:, 2] / played.ground_truth[0, 2]
    assert sizes[-1] == pytest.approx(zoom) and np.all(np.diff(np.log(sizes)) == pytest.approx(np.log(zoom) / 4))
    for index, path in enumerate(played.frames):
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        assert image.shape == (240, 320)
        rows, cols = np.nonzero(image > 127)  # the rectangle as the zoomed frame shows it
        seen = np.array([cols.min() + 1, rows.min() + 1, cols.max() - cols.min() + 1, rows.max() - rows.min() + 1])
        np.testing.assert_allclose(played.ground_truth[index], seen, atol=1.5)


def test_bad_zoom_is_a_one_line_error(sweep, tmp_path, capsys):
    assert _run(sweep, tmp_path / "bad.json", "--zoom", "0") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--zoom must be > 0, got 0.0" in error and not (tmp_path / "bad.json").exists()


def test_zoomed_boxes_are_cut_to_the_frame(sweep, tmp_path):
    import cv2
    import numpy as np

    from ltr.dataset.benchmarks.sequence import Sequence

    frames = []
    for index in range(3):
        path = tmp_path / f"{index}.png"
        cv2.imwrite(str(path), np.zeros((100, 200, 3), np.uint8))
        frames.append(str(path))
    # 0-based boxes: inside, 10 px past the left edge, wholly past the right edge
    boxes = np.array([[50.0, 40.0, 20.0, 10.0], [-10.0, 40.0, 40.0, 10.0], [250.0, 40.0, 20.0, 10.0]])
    played = sweep.zoomed(Sequence("s", frames, boxes, "davis"), 1.0, tmp_path / "zoomed")
    np.testing.assert_allclose(played.ground_truth[:2], [[50.0, 40.0, 20.0, 10.0], [0.0, 40.0, 30.0, 10.0]])
    assert np.isnan(played.ground_truth[2]).all()
