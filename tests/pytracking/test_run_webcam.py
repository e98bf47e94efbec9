"""The webcam demo's loop and mouse selection without a window (scripted display), plus a GUI run when possible."""
from __future__ import annotations

import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from pytracking import run_webcam
from pytracking.run_webcam import QUIT, SELECTING, TRACKING, BoxSelector, WebcamApp, normalize_corners
from pytracking.utils.video_io import CaptureSource
from trackers.base import Tracker, TrackerOutput


class RecordingTracker(Tracker):
    def __init__(self):
        self.init_calls = []
        self.track_images = []

    def initialize(self, image, box):
        self.init_calls.append((image, tuple(box)))

    def track(self, image):
        self.track_images.append(image)
        return TrackerOutput((1.0, 2.0, 3.0, 4.0), 0.75, {})


class ScriptedDisplay:
    """Per shown frame: a key code; selections become available before given frame indices."""

    def __init__(self, keys, selections):
        self.keys = list(keys)
        self.selections = dict(selections)  # frame index -> box
        self.frame_index = 0
        self.pending = None
        self.shown = []
        self.resets = 0

    def take_selection(self):
        box = self.selections.pop(self.frame_index, None)
        return box

    def selection_preview(self):
        return None

    def reset_selection(self):
        self.resets += 1

    def show(self, image):
        self.shown.append(image)
        self.frame_index += 1
        return self.keys.pop(0) if self.keys else -1

    def close(self):
        pass


class FakeClock:
    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step  # consecutive readings are ``step`` seconds apart
        return self.now


def _frames(n):
    return [np.full((20, 30, 3), i, np.uint8) for i in range(n)]


def test_state_machine_select_track_reselect_quit():
    tracker = RecordingTracker()
    keys = [-1, -1, -1, ord("r"), -1, -1, ord("q"), -1, -1]
    display = ScriptedDisplay(keys, {1: (5.0, 5.0, 10.0, 8.0), 5: (1.0, 1.0, 4.0, 4.0)})
    app = WebcamApp(tracker, display, clock=FakeClock(0.1))
    states = [app.step(frame) for frame in _frames(7)]
    assert states == [SELECTING, TRACKING, TRACKING, SELECTING, SELECTING, TRACKING, QUIT]
    assert [box for _, box in tracker.init_calls] == [(5.0, 5.0, 10.0, 8.0), (1.0, 1.0, 4.0, 4.0)]
    assert [int(img[0, 0, 0]) for img in tracker.track_images] == [2, 3, 6]
    assert display.resets == 1
    assert app.fps == pytest.approx(10.0)  # each track() took 0.1 s on the fake clock
    assert len(display.shown) == 7


def test_run_stops_on_quit_and_at_end_of_frames():
    tracker = RecordingTracker()
    app = WebcamApp(tracker, ScriptedDisplay([-1, 27], {0: (0.0, 0.0, 5.0, 5.0)}))
    app.run(_frames(10))
    assert app.state == QUIT and len(tracker.track_images) == 1
    app = WebcamApp(RecordingTracker(), ScriptedDisplay([], {}))
    app.run(_frames(3))
    assert app.state == SELECTING


def test_frames_reach_the_tracker_as_rgb():
    class BlueCapture:
        def __init__(self):
            self.left = 3

        def read(self):
            self.left -= 1
            return (True, np.full((10, 12, 3), (255, 0, 0), np.uint8)) if self.left >= 0 else (False, None)

        def get(self, prop):
            return 0.0

        def release(self):
            pass

    tracker = RecordingTracker()
    WebcamApp(tracker, ScriptedDisplay([], {0: (1.0, 1.0, 5.0, 5.0)})).run(CaptureSource(BlueCapture(), "blue"))
    init_image = tracker.init_calls[0][0]
    assert init_image[0, 0].tolist() == [0, 0, 255]
    assert all(img[0, 0].tolist() == [0, 0, 255] for img in tracker.track_images)


def test_box_selector_click_click_and_drag_any_corner_order():
    selector = BoxSelector()
    selector.on_mouse(cv2.EVENT_LBUTTONDOWN, 50, 40)
    selector.on_mouse(cv2.EVENT_LBUTTONUP, 50, 40)  # a click, not a drag
    selector.on_mouse(cv2.EVENT_MOUSEMOVE, 30, 60)
    assert selector.preview() == (30.0, 40.0, 20.0, 20.0)
    assert selector.take_box() is None
    selector.on_mouse(cv2.EVENT_LBUTTONDOWN, 10, 70)  # second click: bottom-left corner
    assert selector.take_box() == (10.0, 40.0, 40.0, 30.0)
    assert selector.take_box() is None  # only once
    selector.on_mouse(cv2.EVENT_LBUTTONDOWN, 90, 90)  # drag from bottom-right to top-left
    selector.on_mouse(cv2.EVENT_MOUSEMOVE, 70, 75)
    selector.on_mouse(cv2.EVENT_LBUTTONUP, 60, 80)
    assert selector.take_box() == (60.0, 80.0, 30.0, 10.0)
    selector.on_mouse(cv2.EVENT_LBUTTONDOWN, 5, 5)
    selector.on_mouse(cv2.EVENT_LBUTTONUP, 5, 5)
    selector.on_mouse(cv2.EVENT_LBUTTONDOWN, 5, 9)  # zero width: ignored
    assert selector.take_box() is None
    assert normalize_corners((3, 9), (1, 2)) == (1.0, 2.0, 2.0, 7.0)


def test_cli_without_gui_fails_cleanly(capsys, monkeypatch):
    monkeypatch.setattr(run_webcam, "gui_available", lambda: False)
    assert run_webcam.main(["--source", "whatever.mp4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install opencv-contrib-python" in err


def _opencv_has_gui() -> bool:
    lines = [line for line in cv2.getBuildInformation().splitlines() if line.strip().startswith("GUI:")]
    return bool(lines) and lines[0].split(":", 1)[1].strip().upper() != "NONE"


@pytest.mark.skipif(shutil.which("xvfb-run") is None or not _opencv_has_gui(),
                    reason="needs xvfb-run and an OpenCV build with GUI support (the headless build has none)")
def test_webcam_cli_under_virtual_display(tmp_path):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for _ in range(5):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    result = subprocess.run(["xvfb-run", "-a", sys.executable, "-m", "pytracking.run_webcam", "--source", str(video),
                             "--tracker", "opencv"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
