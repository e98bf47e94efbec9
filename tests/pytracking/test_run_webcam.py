"""The webcam demo's loop without a window (scripted display): selection, frame hold, pause, re-selection,
quitting, playback pace, recording hand-over; and the mouse box selector."""
from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from pytracking.utils.video_io import CaptureSource
from pytracking.webcam_app import (
    HOLD_REFRESH_MS,
    MIN_WAIT_MS,
    QUIT,
    SELECTING,
    TRACKING,
    WebcamApp,
)
from pytracking.webcam_display import BoxSelector, normalize_corners
from trackers.base import Tracker, TrackerOutput

SPACE = ord(" ")
TRACKED_BOX = (1.0, 2.0, 3.0, 4.0)
#: Big enough that the bottom-right pixel is below the status text and the test boxes.
FRAME_HEIGHT, FRAME_WIDTH = 100, 120


class RecordingTracker(Tracker):
    def __init__(self, clock=None, seconds_per_frame=0.0):
        self.init_calls = []
        self.track_images = []
        self.clock, self.seconds_per_frame = clock, seconds_per_frame

    def initialize(self, image, box):
        self.init_calls.append((image, tuple(box)))

    def track(self, image):
        self.track_images.append(image)
        if self.clock is not None:
            self.clock.now += self.seconds_per_frame
        return TrackerOutput(TRACKED_BOX, 0.75, {})


class ScriptedDisplay:
    """Per ``show`` call: a key code; selections become available before given show indices.

    With a ``clock`` it lets ``wait_ms`` pass on that clock, as ``cv2.waitKey`` would."""

    def __init__(self, keys, selections, clock=None):
        self.keys = list(keys)
        self.selections = dict(selections)  # show index -> box
        self.clock = clock
        self.frame_index = 0
        self.shown = []
        self.waits = []
        self.show_times = []
        self.resets = 0

    def take_selection(self):
        return self.selections.pop(self.frame_index, None)

    def selection_preview(self):
        return None

    def reset_selection(self):
        self.resets += 1

    def show(self, image, wait_ms):
        self.shown.append(image)
        self.waits.append(wait_ms)
        if self.clock is not None:
            self.show_times.append(self.clock.now)
            self.clock.now += wait_ms / 1000.0
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


class ManualClock:
    """Time moves only when the scripted display waits or the tracker works."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _frames(n):
    """Frame i is filled with the value i, so any image shows which frame it came from."""
    return [np.full((FRAME_HEIGHT, FRAME_WIDTH, 3), i, np.uint8) for i in range(n)]


def _ids(images):
    return [int(image[-1, -1, 0]) for image in images]  # bottom-right: below any box or text


def test_state_machine_select_track_reselect_quit():
    tracker = RecordingTracker()
    keys = [-1, -1, -1, ord("r"), -1, -1, ord("q"), -1, -1]
    display = ScriptedDisplay(keys, {1: (5.0, 5.0, 10.0, 8.0), 5: (1.0, 1.0, 4.0, 4.0)})
    app = WebcamApp(tracker, display, clock=FakeClock(0.1))
    states = [app.step(frame) for frame in _frames(7)]
    assert states == [SELECTING, TRACKING, TRACKING, SELECTING, SELECTING, TRACKING, QUIT]
    assert [box for _, box in tracker.init_calls] == [(5.0, 5.0, 10.0, 8.0), (1.0, 1.0, 4.0, 4.0)]
    assert _ids(tracker.track_images) == [2, 3, 6]
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
    assert app.state == SELECTING and app.frame_index == 2


def test_file_source_holds_the_frame_while_the_box_is_drawn(caplog):
    tracker, display, recorded = RecordingTracker(), ScriptedDisplay([], {4: (2.0, 3.0, 5.0, 6.0)}), []
    app = WebcamApp(tracker, display, hold_while_selecting=True, on_frame=lambda canvas, box: recorded.append(box))
    with caplog.at_level(logging.INFO, logger="pytracking.webcam"):
        app.run(_frames(4))
    assert _ids(display.shown) == [0, 0, 0, 0, 0, 1, 2, 3]  # frame 0 stays on screen until the box is there
    assert display.waits[:4] == [MIN_WAIT_MS] + [HOLD_REFRESH_MS] * 3
    assert _ids([image for image, _ in tracker.init_calls]) == [0]
    assert _ids(tracker.track_images) == [1, 2, 3]
    assert "frame 0: tracking the target in box 2.0,3.0,5.0,6.0" in caplog.text
    assert recorded == [(2.0, 3.0, 5.0, 6.0)] + [TRACKED_BOX] * 3  # one record per source frame


def test_camera_keeps_streaming_while_the_box_is_drawn():
    tracker, display, recorded = RecordingTracker(), ScriptedDisplay([], {3: (2.0, 3.0, 5.0, 6.0)}), []
    app = WebcamApp(tracker, display, on_frame=lambda canvas, box: recorded.append(box))
    app.run(_frames(5))
    assert _ids(display.shown) == [0, 1, 2, 3, 4]
    assert _ids([image for image, _ in tracker.init_calls]) == [3]
    assert recorded == [None, None, None, (2.0, 3.0, 5.0, 6.0), TRACKED_BOX]


def test_space_pauses_and_resumes_any_source(caplog):
    tracker, recorded = RecordingTracker(), []
    display = ScriptedDisplay([-1, SPACE, -1, -1, SPACE], {})
    app = WebcamApp(tracker, display, init_box=(2.0, 3.0, 5.0, 6.0), on_frame=lambda canvas, box: recorded.append(box))
    with caplog.at_level(logging.INFO, logger="pytracking.webcam"):
        app.run(_frames(4))
    assert _ids(display.shown) == [0, 1, 1, 1, 1, 2, 3]  # frame 1 held while paused
    assert display.waits[2:5] == [HOLD_REFRESH_MS] * 3
    assert _ids(tracker.track_images) == [1, 2, 3]  # the held frame is tracked once
    assert len(recorded) == 4
    assert "frame 1: paused with box 1.0,2.0,3.0,4.0" in caplog.text and "frame 1: resumed" in caplog.text


def test_reselect_on_a_file_holds_the_frame_where_r_was_pressed():
    tracker = RecordingTracker()
    display = ScriptedDisplay([-1, -1, ord("r")], {6: (1.0, 1.0, 4.0, 4.0)})
    app = WebcamApp(tracker, display, hold_while_selecting=True, init_box=(2.0, 3.0, 5.0, 6.0))
    app.run(_frames(5))
    assert _ids(display.shown) == [0, 1, 2, 2, 2, 2, 2, 3, 4]
    assert [(int(image[-1, -1, 0]), box) for image, box in tracker.init_calls] == [(0, (2.0, 3.0, 5.0, 6.0)),
                                                                                  (2, (1.0, 1.0, 4.0, 4.0))]


def test_max_frames_counts_source_frames_not_redraws_of_a_held_frame():
    tracker, recorded = RecordingTracker(), []
    display = ScriptedDisplay([], {3: (2.0, 3.0, 5.0, 6.0)})
    app = WebcamApp(tracker, display, hold_while_selecting=True, on_frame=lambda canvas, box: recorded.append(box))
    app.run(_frames(10), max_frames=3)
    assert _ids(display.shown) == [0, 0, 0, 0, 1, 2]
    assert app.frame_index == 2 and len(recorded) == 3


@pytest.mark.parametrize("tracker_seconds", [0.02, 0.15])
def test_a_file_plays_at_its_frame_rate_or_as_fast_as_the_tracker_allows(tracker_seconds):
    clock = ManualClock()
    tracker, display = RecordingTracker(clock, tracker_seconds), ScriptedDisplay([], {}, clock)
    WebcamApp(tracker, display, frame_period=0.1, init_box=(2.0, 3.0, 5.0, 6.0), clock=clock).run(_frames(6))
    gaps = np.diff(display.show_times)[1:]  # the first frame waits before anyone knows how slow the tracker is
    assert gaps == pytest.approx([max(0.1, tracker_seconds + MIN_WAIT_MS / 1000.0)] * 4, abs=2e-3)


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
