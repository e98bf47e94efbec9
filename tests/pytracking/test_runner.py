"""run_sequence, the resumable data-set runner and the run_tracker CLI, with the real OpenCV baseline."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from benchmark_trees import make_uav123_tree

from ltr.dataset.benchmarks import load_dataset
from pytracking.evaluation.runner import RunSpec, run_dataset, run_sequence
from pytracking.run_tracker import main as run_tracker_main
from trackers.base import Tracker, TrackerOutput
from trackers.opencv_baseline import OpenCVTracker
from trackers.registry import list_trackers, register_tracker

REPO = Path(__file__).resolve().parents[2]
LENGTHS = {"bike1": 14, "boat1": 10, "car2": 12}


class RecordingTracker(Tracker):
    """Returns the fixed 0-based box (1, 2, 3, 4) and remembers what it was given."""

    def __init__(self):
        self.init_box = None
        self.shapes = []

    def initialize(self, image, box):
        self.init_box = list(box)

    def track(self, image):
        self.shapes.append(image.shape)
        return TrackerOutput(box=(1.0, 2.0, 3.0, 4.0), score=0.5)


_FAIL_ON: set[str] = set()


class FlakyCSRT(OpenCVTracker):
    """CSRT that raises on the sequences whose first-frame box is listed in ``_FAIL_ON`` (by sequence name)."""

    def initialize(self, image, box):
        if _FAIL_ON and tuple(box) in _FAIL_ON:
            raise RuntimeError("injected failure")
        super().initialize(image, box)


if "test_flaky" not in list_trackers():
    register_tracker("test_flaky", lambda *, param, checkpoint, device: FlakyCSRT(param))


@pytest.fixture(scope="module")
def uav_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("uav10")
    make_uav123_tree(root, LENGTHS)
    return root


def _sequences(root, names=None):
    return load_dataset("uav123_10fps", root, sequences=names or sorted(LENGTHS))


def _box_files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.glob("*.txt")) if not p.name.endswith("_time.txt")}


def test_run_sequence_converts_box_origin_and_keeps_box_on_corrupt_frame(tmp_path, caplog):
    make_uav123_tree(tmp_path, {"bike1": 6})
    (sequence,) = load_dataset("uav123_10fps", tmp_path, sequences=["bike1"])
    Path(sequence.frames[3]).write_bytes(b"not a jpeg")
    tracker = RecordingTracker()
    with caplog.at_level(logging.WARNING):
        boxes, times, scores = run_sequence(tracker, sequence)
    gt0 = sequence.ground_truth[0]
    assert tracker.init_box == [gt0[0] - 1, gt0[1] - 1, gt0[2], gt0[3]]  # 1-based annotation -> 0-based tracker
    np.testing.assert_array_equal(boxes[0], gt0)
    np.testing.assert_array_equal(boxes[[1, 2, 4, 5]], [[2.0, 3.0, 3.0, 4.0]] * 4)  # + origin on x, y
    np.testing.assert_array_equal(boxes[3], boxes[2])
    assert scores.tolist() == [1.0, 0.5, 0.5, 0.0, 0.5, 0.5]
    assert len(tracker.shapes) == 4 and times.shape == (6,)
    assert "frame 3" in caplog.text


def test_run_sequence_rejects_non_finite_tracker_box(tmp_path):
    make_uav123_tree(tmp_path, {"bike1": 3})
    (sequence,) = load_dataset("uav123_10fps", tmp_path, sequences=["bike1"])

    class NaNTracker(RecordingTracker):
        def track(self, image):
            return TrackerOutput(box=(1.0, float("nan"), 3.0, 4.0), score=0.5)

    with pytest.raises(ValueError, match="bike1 frame 1: tracker returned an invalid box"):
        run_sequence(NaNTracker(), sequence)


@pytest.mark.slow
@pytest.mark.e2e
def test_cli_end_to_end_parallel_matches_serial(uav_root, tmp_path):
    base = [
        "opencv", "csrt", "--dataset", "uav123_10fps", "--dataset-root", str(uav_root),
        "--sequence", *sorted(LENGTHS),
    ]
    assert run_tracker_main(base + ["--results-dir", str(tmp_path / "serial")]) == 0
    assert run_tracker_main(base + ["--results-dir", str(tmp_path / "parallel"), "--workers", "2"]) == 0
    serial = tmp_path / "serial" / "opencv" / "csrt"
    assert _box_files(serial) == _box_files(tmp_path / "parallel" / "opencv" / "csrt")
    for sequence in _sequences(uav_root):
        rows = np.loadtxt(serial / f"{sequence.name}.txt", delimiter=",")
        assert rows.shape == (len(sequence), 4)
        np.testing.assert_array_equal(rows[0], sequence.ground_truth[0])
        assert np.abs(rows - sequence.ground_truth).max() <= 3.0  # CSRT follows the square
        assert np.loadtxt(serial / f"{sequence.name}_time.txt").shape == (len(sequence),)
    assert not (serial / "failures.txt").exists()


def test_failing_sequence_is_reported_and_rerun_finishes_it(uav_root, tmp_path):
    sequences = _sequences(uav_root)
    clean = run_dataset(RunSpec("opencv", "csrt"), sequences, tmp_path / "clean")
    assert clean == {}
    flaky_box = tuple(float(v) - 1 for v in sequences[1].ground_truth[0][:2]) + tuple(sequences[1].ground_truth[0][2:])
    _FAIL_ON.add(flaky_box)
    try:
        failures = run_dataset(RunSpec("test_flaky", "csrt"), sequences, tmp_path / "run")
    finally:
        _FAIL_ON.clear()
    out = tmp_path / "run" / "test_flaky" / "csrt"
    assert list(failures) == [sequences[1].name] and "injected failure" in failures[sequences[1].name]
    assert (out / "failures.txt").read_text().startswith(f"{sequences[1].name}: RuntimeError: injected failure")
    assert not (out / f"{sequences[1].name}.txt").exists()
    done_before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.txt") if p.name != "failures.txt"}
    assert run_dataset(RunSpec("test_flaky", "csrt"), sequences, tmp_path / "run") == {}
    assert {name: (out / name).stat().st_mtime_ns for name in done_before} == done_before  # finished ones skipped
    assert not (out / "failures.txt").exists()
    assert _box_files(out) == _box_files(tmp_path / "clean" / "opencv" / "csrt")


def test_incomplete_result_file_is_run_again(uav_root, tmp_path, caplog):
    sequences = _sequences(uav_root, ["boat1"])
    run_dataset(RunSpec("opencv", "kcf"), sequences, tmp_path)
    path = tmp_path / "opencv" / "kcf" / "boat1.txt"
    complete = path.read_text()
    path.write_text("".join(complete.splitlines(keepends=True)[:4]))
    with caplog.at_level(logging.WARNING):
        run_dataset(RunSpec("opencv", "kcf"), sequences, tmp_path)
    assert "incomplete result" in caplog.text and path.read_text() == complete


_SLOW_RUNNER = """
import sys, time
from trackers.opencv_baseline import OpenCVTracker
from trackers.registry import register_tracker
class Slow(OpenCVTracker):
    def track(self, image):
        time.sleep(0.05)
        return super().track(image)
register_tracker("slow", lambda *, param, checkpoint, device: Slow(param))
from pytracking.run_tracker import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.e2e
def test_killed_run_resumes_to_identical_files(uav_root, tmp_path):
    names = sorted(LENGTHS)
    args = ["slow", "csrt", "--dataset", "uav123_10fps", "--dataset-root", str(uav_root), "--sequence", *names]
    out = tmp_path / "killed" / "slow" / "csrt"
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_RUNNER, *args, "--results-dir", str(tmp_path / "killed")],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (out / f"{names[0]}.txt").exists():
        assert process.poll() is None and time.monotonic() < deadline, "runner ended before writing the first result"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / f"{names[-1]}.txt").exists(), "the run was not interrupted halfway"
    resumed = subprocess.run([sys.executable, "-c", _SLOW_RUNNER, *args, "--results-dir", str(tmp_path / "killed")],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "1 of 3 sequences already complete" in resumed.stderr
    clean = subprocess.run([sys.executable, "-c", _SLOW_RUNNER, *args, "--results-dir", str(tmp_path / "clean")],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stderr[-2000:]
    assert _box_files(out) == _box_files(tmp_path / "clean" / "slow" / "csrt")
    assert len(_box_files(out)) == 3


def test_cli_user_errors_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("UAV123_ROOT", raising=False)
    assert run_tracker_main(["opencv", "csrt", "--dataset", "uav123", "--results-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("python -m pytracking.run_tracker: error:") and "UAV123_ROOT" in error and "\n" not in error
    assert run_tracker_main(["nosuch", "csrt", "--dataset", "uav123", "--dataset-root", str(tmp_path)]) == 2
    assert "unknown tracker 'nosuch'" in capsys.readouterr().err


def test_worker_runs_torch_and_opencv_on_its_share_of_the_cores(tmp_path):
    import cv2
    import torch

    from pytracking.evaluation import runner

    before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(2)
    cv2.setNumThreads(2)
    try:
        runner._init_worker(RunSpec("opencv", "csrt"), tmp_path, logging.INFO, 1)
        assert (torch.get_num_threads(), cv2.getNumThreads()) == (1, 1)
        assert runner._WORKER["tracker"] is not None
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])
        runner._WORKER.clear()


@pytest.fixture(scope="module")
def couple_folders(tmp_path_factory):
    """A ``folder`` data set of two 3-frame sequences cut from the bundled Couple (loads without warnings)."""
    root = tmp_path_factory.mktemp("folder")
    couple = REPO / "pytracking" / "demo_data" / "Couple"
    truth = (couple / "groundtruth.txt").read_text().splitlines()[:3]
    for name in ("first", "second"):
        (root / name / "img").mkdir(parents=True)
        for image in sorted((couple / "img").glob("*.jpg"))[:3]:
            (root / name / "img" / image.name).write_bytes(image.read_bytes())
        (root / name / "groundtruth.txt").write_text("\n".join(truth) + "\n")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_tracker_that_does_not_build_is_one_line_and_writes_nothing(couple_folders, tmp_path, workers):
    """A bad --param: exit 2 with one line naming it, no traceback (per worker or otherwise), no results folder."""
    results = tmp_path / "results"
    result = subprocess.run(
        [sys.executable, "-m", "pytracking.run_tracker", "atom_ebm", "no_such_param", "--dataset", "folder",
         "--dataset-root", str(couple_folders), "--results-dir", str(results), "--workers", workers],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "unknown atom_ebm parameter set 'no_such_param'" in result.stderr
    assert result.stderr.startswith("python -m pytracking.run_tracker: error: ")
    assert not results.exists()


def test_results_dir_that_is_a_file_is_refused_before_any_work(couple_folders, tmp_path, capsys):
    taken = tmp_path / "results"
    taken.write_text("not a folder")
    argv = ["opencv", "csrt", "--dataset", "folder", "--dataset-root", str(couple_folders), "--results-dir", str(taken)]
    assert run_tracker_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--results-dir {taken}/opencv/csrt: {taken} is not a folder" in err
    assert taken.read_text() == "not a folder"


@pytest.mark.parametrize("level, traceback_logged", [(logging.INFO, False), (logging.DEBUG, True)])
def test_failed_sequence_is_one_log_line_unless_debugging(uav_root, tmp_path, caplog, level, traceback_logged):
    (sequence,) = _sequences(uav_root, ["boat1"])
    _FAIL_ON.add(tuple(float(v) - 1 for v in sequence.ground_truth[0][:2]) + tuple(sequence.ground_truth[0][2:]))
    try:
        with caplog.at_level(level, logger="pytracking.evaluation.runner"):
            failures = run_dataset(RunSpec("test_flaky", "csrt"), [sequence], tmp_path)
    finally:
        _FAIL_ON.clear()
    assert list(failures) == ["boat1"]
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "sequence boat1 failed: RuntimeError: injected failure"
    assert bool(record.exc_info) == traceback_logged
