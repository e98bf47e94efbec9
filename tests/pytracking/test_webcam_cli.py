"""The webcam demo's command line without a window: --init-box, --save-video, --save-boxes, --max-frames,
--no-display, the fallback of the default (headless OpenCV) install, and its error handling."""
from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import box_iou

from ltr.utils.box_io import load_boxes
from pytracking import run_webcam
from trackers.base import Tracker, TrackerOutput

#: OpenCV's CSRT: a real tracker that needs no model and follows Couple's walker for 40 frames in about a second.
TRACKER = ["--tracker", "opencv", "--param", "csrt"]
#: Mean IoU the demo must reach on Couple's first 40 frames (CSRT: 0.79; keeping the first box: 0.14).
IOU_FLOOR = 0.6
#: Drawn box pixels after mp4v compression: green clearly above red and blue.
GREEN_MARGIN = 80
#: A box this far off (pixels, both axes) must not match the drawing.
SHIFT = 8


def _greenish(image: np.ndarray) -> np.ndarray:
    pixels = image.astype(np.int32)
    return pixels[..., 1] - np.maximum(pixels[..., 0], pixels[..., 2]) > GREEN_MARGIN


def _read_video(path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def _box_args(box) -> list[str]:
    return ["--init-box", *(str(v) for v in box)]


def test_save_video_has_one_annotated_frame_per_source_frame(tmp_path, couple_clip, couple_truth, outline_share):
    video, boxes_file = tmp_path / "out.mp4", tmp_path / "boxes.txt"
    argv = ["--source", str(couple_clip(12)), *_box_args(couple_truth[0]), *TRACKER, "--no-display",
            "--save-video", str(video), "--save-boxes", str(boxes_file)]
    assert run_webcam.main(argv) == 0
    frames, boxes = _read_video(video), load_boxes(boxes_file)
    assert len(frames) == len(boxes) == 12
    assert boxes[0].tolist() == couple_truth[0].tolist()
    for index, (frame, box) in enumerate(zip(frames, boxes)):
        assert outline_share(frame, box, _greenish) >= 0.9, f"frame {index}: no box drawn at {box}"
        assert outline_share(frame, box + (SHIFT, SHIFT, 0, 0), _greenish) < 0.5, f"frame {index}: box not at {box}"
    assert not list(tmp_path.glob(".*partial*"))


def test_init_box_and_max_frames_track_the_target(tmp_path, couple_clip, couple_truth):
    boxes_file, frames = tmp_path / "boxes.txt", 40
    argv = ["--source", str(couple_clip(frames + 10)), *_box_args(couple_truth[0]), *TRACKER, "--no-display",
            "--max-frames", str(frames), "--save-boxes", str(boxes_file)]
    assert run_webcam.main(argv) == 0
    boxes, truth = load_boxes(boxes_file), couple_truth[:frames]
    assert len(boxes) == frames
    first_box_iou = box_iou(np.repeat(truth[:1], frames, axis=0), truth).mean()
    assert first_box_iou < IOU_FLOOR / 2  # the target moves: keeping the first box would fail the floor
    assert box_iou(boxes, truth).mean() >= IOU_FLOOR


def test_default_headless_install_tracks_without_a_window_when_given_a_box(tmp_path, couple_clip, couple_truth):
    """No --no-display and no usable window (no DISPLAY): with --init-box the demo warns once and records."""
    video = tmp_path / "out.mp4"
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "pytracking.cli", "webcam", "--source", str(couple_clip(5)),
                             *_box_args(couple_truth[0]), *TRACKER, "--save-video", str(video)],
                            capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("WARNING") == 1 and "no window" in result.stderr
    assert "frame 0: tracking the target in box 51.0,47.0,25.0,62.0" in result.stderr
    assert len(_read_video(video)) == 5


def test_without_a_window_or_a_box_fails_cleanly(capsys, monkeypatch):
    monkeypatch.setattr(run_webcam, "gui_available", lambda: False)
    assert run_webcam.main(["--source", "whatever.mp4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install opencv-contrib-python" in err and "--init-box" in err


@pytest.mark.parametrize("args, expected", [
    (["--max-frames", "0"], "--max-frames must be at least 1, got 0"),
    (["--init-box", "400", "10", "20", "20"], "outside the 320x240 image"),
    (["--init-box", "10", "10", "0", "20"], "w=0.0"),
    (["--save-video", "{tmp}/missing/out.mp4"], "folder {tmp}/missing does not exist"),
    (["--save-video", "{tmp}"], "--save-video {tmp}: is a folder"),
    (["--save-boxes", "{tmp}/missing/boxes.txt"], "folder {tmp}/missing does not exist"),
    (["--no-display"], "--no-display needs --init-box"),
    (["--tracker", "nope"], "nope"),
])
def test_usage_errors_exit_2_with_one_line_before_any_work(args, expected, tmp_path, couple_clip, capsys,
                                                          monkeypatch):
    monkeypatch.setattr(run_webcam, "build_tracker", lambda *a, **k: pytest.fail("built a tracker"))
    args = [arg.format(tmp=tmp_path) for arg in args]
    argv = ["--source", str(couple_clip(3)), "--no-display", *args]
    if "--init-box" not in args and "--no-display" not in args:
        argv += ["--init-box", "51", "47", "25", "62"]
    assert run_webcam.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{run_webcam.PROG}: error: ") and expected.format(tmp=tmp_path) in err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["couple3.avi"]


def test_output_paths_are_checked_before_the_source_is_opened(tmp_path, capsys):
    argv = ["--source", str(tmp_path / "absent.mp4"), "--init-box", "1", "1", "5", "5",
            "--save-video", str(tmp_path / "missing" / "out.mp4")]
    assert run_webcam.main(argv) == 2
    assert "missing does not exist" in capsys.readouterr().err


class FailingTracker(Tracker):
    """Tracks ``frames`` frames, then raises ``error``."""

    def __init__(self, frames: int, error: BaseException):
        self.left, self.error = frames, error

    def initialize(self, image, box):
        pass

    def track(self, image):
        self.left -= 1
        if self.left < 0:
            raise self.error
        return TrackerOutput((51.0, 47.0, 25.0, 62.0), 1.0, {})


def test_runtime_failure_exits_1_and_leaves_no_partial_video(tmp_path, couple_clip, capsys, monkeypatch):
    monkeypatch.setattr(run_webcam, "build_tracker", lambda *a, **k: FailingTracker(2, RuntimeError("out of memory")))
    video = tmp_path / "out.mp4"
    argv = ["--source", str(couple_clip(6)), "--init-box", "51", "47", "25", "62", "--no-display",
            "--save-video", str(video)]
    assert run_webcam.main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"{run_webcam.PROG}: error: out of memory\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["couple6.avi"]


def test_ctrl_c_keeps_what_was_recorded(tmp_path, couple_clip, monkeypatch):
    monkeypatch.setattr(run_webcam, "build_tracker", lambda *a, **k: FailingTracker(3, KeyboardInterrupt()))
    video, boxes_file = tmp_path / "out.mp4", tmp_path / "boxes.txt"
    argv = ["--source", str(couple_clip(8)), "--init-box", "51", "47", "25", "62", "--no-display",
            "--save-video", str(video), "--save-boxes", str(boxes_file)]
    assert run_webcam.main(argv) == 130
    assert len(_read_video(video)) == len(load_boxes(boxes_file)) == 4  # the first frame and three tracked ones
