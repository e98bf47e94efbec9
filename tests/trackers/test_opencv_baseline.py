"""OpenCV baselines behind the Tracker contract: CSRT / KCF on a synthetic moving square, NanoTrack v2 on a real OTB
sequence, its model-folder errors and the ``run_tracker opencv nanotrack --model-dir`` command line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from benchmark_trees import make_uav123_tree, square_boxes, write_video
from helpers import SHARED, box_iou

from ltr.utils.image_io import read_image
from pytracking.run_tracker import main as run_tracker_main
from trackers.opencv_baseline import (
    MODEL_KINDS,
    OpenCVTracker,
    build_tracker,
    model_files,
)
from trackers.registry import build_tracker as build_registered
from trackers.registry import check_tracker_arguments, list_trackers, register_tracker

REPO = Path(__file__).resolve().parents[2]
NANOTRACK_BACKBONE_FILE, NANOTRACK_HEAD_FILE = MODEL_KINDS["nanotrack"].files
NANOTRACK_MODEL_DIR_ENV = MODEL_KINDS["nanotrack"].env_var
(VITTRACK_FILE,) = MODEL_KINDS["vittrack"].files
VITTRACK_MODEL_DIR_ENV = MODEL_KINDS["vittrack"].env_var


def _iou(a, b) -> float:
    return float(box_iou(a, b)[0])


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    boxes = square_boxes(15, seed=1)
    paths = write_video(tmp_path_factory.mktemp("square"), boxes, seed=1)
    return boxes, [read_image(p) for p in paths]


@pytest.mark.parametrize("param", ["csrt", "kcf"])
def test_tracks_moving_square(video, param):
    boxes, images = video
    tracker = build_registered("opencv", param)
    tracker.initialize(images[0], boxes[0].tolist())
    for image, truth in zip(images[1:], boxes[1:]):
        output = tracker.track(image)
        assert all(isinstance(v, float) for v in output.box)
        assert output.score == 1.0
        assert _iou(output.box, truth) > 0.6


def test_failure_keeps_last_box_with_zero_score(video):
    boxes, images = video
    tracker = build_tracker(param="kcf")
    tracker.initialize(images[0], boxes[0].tolist())
    last = tracker.track(images[1]).box
    blank = np.full_like(images[0], 128)
    output = tracker.track(blank)
    assert output.score == 0.0 and output.box == last


def test_images_reach_opencv_as_bgr():
    seen = []

    class Recorder:
        def init(self, image, rect):
            seen.append((image.copy(), rect))

        def update(self, image):
            seen.append((image.copy(), None))
            return True, (3, 4, 5, 6)

    tracker = OpenCVTracker("csrt")
    tracker._factory = Recorder
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 0] = 255  # pure red
    tracker.initialize(rgb, (2.4, 3.6, 5.5, 6.2))
    output = tracker.track(rgb)
    assert seen[0][0][0, 0].tolist() == [0, 0, 255]  # red in BGR order
    assert seen[0][1] == (2, 4, 6, 6)
    assert output.box == (3.0, 4.0, 5.0, 6.0) and output.score == 1.0


def test_bad_parameters():
    with pytest.raises(ValueError, match="unknown OpenCV tracker"):
        build_tracker(param="mosse2")
    with pytest.raises(ValueError, match="checkpoint"):
        build_tracker(param="csrt", checkpoint="x.pth")
    with pytest.raises(RuntimeError, match="before initialize"):
        OpenCVTracker("kcf").track(np.zeros((8, 8, 3), np.uint8))


# --- NanoTrack v2 (cv2.TrackerNano on the ONNX pair in the shared peers folder) ---------------------------------

NANOTRACK_DIR = SHARED / "peers" / "nanotrack_v2"
VITTRACK_DIR = SHARED / "peers" / "vittrack"
CROSSING = SHARED / "data" / "sequences" / "otb" / "Crossing"

needs_nanotrack = pytest.mark.skipif(
    not (NANOTRACK_DIR / NANOTRACK_BACKBONE_FILE).is_file() or not (NANOTRACK_DIR / NANOTRACK_HEAD_FILE).is_file(),
    reason=f"NanoTrack v2 ONNX files not found in {NANOTRACK_DIR} (shared peers folder absent)",
)
needs_vittrack = pytest.mark.skipif(
    not (VITTRACK_DIR / VITTRACK_FILE).is_file(),
    reason=f"VitTrack ONNX file not found in {VITTRACK_DIR} (shared peers folder absent)",
)
needs_crossing = pytest.mark.skipif(
    not (CROSSING / "groundtruth.txt").is_file(), reason=f"OTB sequence not found at {CROSSING} (shared data folder absent)",
)


@pytest.fixture
def no_model_env(monkeypatch):
    for kind in MODEL_KINDS.values():
        monkeypatch.delenv(kind.env_var, raising=False)


def _assert_names_files_folder_and_how(message: str, folder) -> None:
    assert "\n" not in message
    assert NANOTRACK_BACKBONE_FILE in message and NANOTRACK_HEAD_FILE in message
    assert str(folder) in message
    assert "--model-dir DIR" in message and NANOTRACK_MODEL_DIR_ENV in message


@pytest.mark.parametrize("kind, model_dir, sequence", [
    pytest.param("nanotrack", NANOTRACK_DIR, CROSSING, marks=(needs_nanotrack, needs_crossing)),
    # VitTrack: Couple, the bundled demo sequence (it also runs where ../shared is absent)
    pytest.param("vittrack", VITTRACK_DIR, REPO / "pytracking" / "demo_data" / "Couple", marks=needs_vittrack),
])
def test_model_trackers_beat_keeping_the_first_box_on_real_video(no_model_env, kind, model_dir, sequence):
    truth = np.loadtxt(sequence / "groundtruth.txt", delimiter=",") - [1.0, 1.0, 0.0, 0.0]  # 1-based -> 0-based
    frames = sorted((sequence / "img").glob("*.jpg"))
    assert len(frames) == len(truth) > 100
    tracker = build_registered("opencv", kind, model_dir=str(model_dir))
    tracker.initialize(read_image(frames[0]), truth[0].tolist())
    tracked_ious, scores = [], []
    for path, box in zip(frames[1:], truth[1:]):
        output = tracker.track(read_image(path))
        assert len(output.box) == 4 and all(isinstance(v, float) for v in output.box)
        tracked_ious.append(_iou(output.box, box))
        scores.append(output.score)
    first_box_ious = [_iou(truth[0], box) for box in truth[1:]]  # a tracker that never moves
    tracked, static = float(np.mean(tracked_ious)), float(np.mean(first_box_ious))
    assert static < 0.2  # the target walks out of the first box
    assert tracked > 0.5 and tracked > static + 0.3, (tracked, static)  # measured (OpenCV 5.1): NanoTrack 0.76, VitTrack 0.76
    assert all(0.0 <= s <= 1.0 for s in scores) and np.mean(scores) > 0.3  # getTrackingScore(): 0.44-0.6 here


def test_missing_model_file_names_both_files_and_the_folder(tmp_path, no_model_env):
    (tmp_path / NANOTRACK_BACKBONE_FILE).write_bytes(b"")
    with pytest.raises(FileNotFoundError) as missing_file:
        build_tracker(param="nanotrack", model_dir=str(tmp_path))
    _assert_names_files_folder_and_how(str(missing_file.value), tmp_path)
    assert f"{NANOTRACK_HEAD_FILE} missing" in str(missing_file.value)
    with pytest.raises(FileNotFoundError) as missing_folder:
        build_tracker(param="nanotrack", model_dir=str(tmp_path / "nope"))
    _assert_names_files_folder_and_how(str(missing_folder.value), tmp_path / "nope")
    with pytest.raises(ValueError, match="no folder given") as nothing_given:
        build_tracker(param="nanotrack")
    assert NANOTRACK_BACKBONE_FILE in str(nothing_given.value) and NANOTRACK_HEAD_FILE in str(nothing_given.value)


def test_unreadable_model_files_are_a_one_line_value_error(tmp_path, no_model_env):
    for name in (NANOTRACK_BACKBONE_FILE, NANOTRACK_HEAD_FILE):
        (tmp_path / name).write_bytes(b"not an onnx model")
    with pytest.raises(ValueError, match="cannot load the NanoTrack model") as error:
        build_tracker(param="nanotrack", model_dir=str(tmp_path))
    assert "\n" not in str(error.value) and str(tmp_path) in str(error.value)


@needs_nanotrack
def test_model_dir_from_environment_variable(video, monkeypatch, tmp_path):
    boxes, images = video
    monkeypatch.setenv(NANOTRACK_MODEL_DIR_ENV, str(NANOTRACK_DIR))
    assert model_files("nanotrack") == (NANOTRACK_DIR / NANOTRACK_BACKBONE_FILE, NANOTRACK_DIR / NANOTRACK_HEAD_FILE)
    tracker = build_registered("opencv", "nanotrack")
    tracker.initialize(images[0], boxes[0].tolist())
    output = tracker.track(images[1])
    assert _iou(output.box, boxes[1]) > 0.5
    # an explicit model_dir wins over the variable; a bad variable is named as the source of the folder
    monkeypatch.setenv(NANOTRACK_MODEL_DIR_ENV, str(tmp_path / "absent"))
    assert build_tracker(param="nanotrack", model_dir=NANOTRACK_DIR).kind == "nanotrack"
    with pytest.raises(FileNotFoundError, match=f"from {NANOTRACK_MODEL_DIR_ENV}") as error:
        build_tracker(param="nanotrack")
    _assert_names_files_folder_and_how(str(error.value), tmp_path / "absent")


def test_vittrack_model_errors_name_its_file_and_variable(tmp_path, no_model_env):
    with pytest.raises(FileNotFoundError) as missing:
        build_tracker(param="vittrack", model_dir=str(tmp_path))
    message = str(missing.value)
    assert "\n" not in message and f"{VITTRACK_FILE} missing" in message and VITTRACK_MODEL_DIR_ENV in message
    (tmp_path / VITTRACK_FILE).write_bytes(b"not an onnx model")
    with pytest.raises(ValueError, match="cannot load the VitTrack model"):
        build_tracker(param="vittrack", model_dir=str(tmp_path))


def test_model_dir_is_an_error_for_trackers_without_a_model(no_model_env):
    with pytest.raises(ValueError, match="takes no model folder"):
        build_tracker(param="csrt", model_dir=str(NANOTRACK_DIR))
    with pytest.raises(ValueError, match="checkpoint"):
        build_tracker(param="nanotrack", checkpoint="x.pth")
    if "test_no_model" not in list_trackers():
        register_tracker("test_no_model", lambda *, param, checkpoint, device: OpenCVTracker("kcf"))
    with pytest.raises(ValueError, match="tracker 'test_no_model' takes no model folder; drop --model-dir"):
        build_registered("test_no_model", "kcf", model_dir="anything")
    with pytest.raises(ValueError, match="tracker 'test_no_model' takes no model folder"):
        check_tracker_arguments("test_no_model", "kcf", model_dir="anything")
    check_tracker_arguments("test_no_model", "kcf")  # nothing to check without a model folder


# --- the run_tracker command line ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def uav_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("uav10")
    make_uav123_tree(root, {"bike1": 8, "boat1": 6})
    return root


def _cli(uav_root, results, *extra):
    return ["--dataset", "uav123_10fps", "--dataset-root", str(uav_root), "--results-dir", str(results), *extra]


@pytest.mark.parametrize("bad", ["absent", "empty"])
def test_cli_bad_model_dir_exits_2_with_one_line_and_no_results(uav_root, tmp_path, capsys, no_model_env, bad):
    model_dir = tmp_path / bad
    if bad == "empty":
        model_dir.mkdir()
    results = tmp_path / "results"
    assert run_tracker_main(["opencv", "nanotrack", *_cli(uav_root, results, "--model-dir", str(model_dir))]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("python -m pytracking.run_tracker: error:")
    _assert_names_files_folder_and_how(error.strip(), model_dir)
    assert not results.exists()


def test_cli_model_dir_for_a_tracker_without_a_model_is_a_usage_error(uav_root, tmp_path, capsys, no_model_env):
    results = tmp_path / "results"
    assert run_tracker_main(["opencv", "csrt", *_cli(uav_root, results, "--model-dir", str(NANOTRACK_DIR))]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "takes no model folder" in error
    assert not results.exists()


def test_cli_subprocess_exit_status_and_stderr(uav_root, tmp_path, no_model_env):
    results = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "pytracking.run_tracker", "opencv", "nanotrack",
         *_cli(uav_root, results, "--model-dir", str(tmp_path / "absent"))],
        cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and NANOTRACK_HEAD_FILE in lines[0] and NANOTRACK_BACKBONE_FILE in lines[0], completed.stderr
    assert not results.exists()


@needs_nanotrack
def test_cli_nanotrack_with_two_workers_matches_serial(uav_root, tmp_path, no_model_env):
    args = ["opencv", "nanotrack", "--sequence", "bike1", "boat1", "--model-dir", str(NANOTRACK_DIR)]
    assert run_tracker_main(args[:2] + _cli(uav_root, tmp_path / "serial", *args[2:])) == 0
    assert run_tracker_main(args[:2] + _cli(uav_root, tmp_path / "parallel", *args[2:], "--workers", "2")) == 0
    serial, parallel = tmp_path / "serial" / "opencv" / "nanotrack", tmp_path / "parallel" / "opencv" / "nanotrack"
    assert not (parallel / "failures.txt").exists()  # the spawned workers got the model folder
    for name, frames in (("bike1", 8), ("boat1", 6)):
        rows = np.loadtxt(serial / f"{name}.txt", delimiter=",")
        assert rows.shape == (frames, 4)
        assert (parallel / f"{name}.txt").read_text() == (serial / f"{name}.txt").read_text()
