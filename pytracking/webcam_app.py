"""The webcam demo's loop: select a target, track it, pause, re-select, quit; independent of any window.

The loop talks to a ``Display`` (``pytracking.webcam_display``), so selection, tracking, pausing, re-selection,
quitting, playback pacing and the FPS estimate are testable with a scripted display.

Frame hold: with ``hold_while_selecting`` (video files) the current frame stays on screen while the user draws
the box, so the target cannot move between the two clicks and a short clip cannot end before anyone selects; a
live camera keeps streaming while the user selects. Pausing holds the frame for any source.

Recording: every source frame is handed once to ``on_frame`` with its last rendering and the box drawn on it
(None while selecting), however long it was held; that is what ``--save-video`` / ``--save-boxes`` write.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable

import numpy as np

from pytracking.utils.drawing import SELECTION_COLOR, annotate, draw_box, draw_text
from pytracking.webcam_display import Box, Display
from trackers.base import Tracker

logger = logging.getLogger("pytracking.webcam")

SELECTING = "selecting"
TRACKING = "tracking"
QUIT = "quit"
QUIT_KEYS = (ord("q"), 27)  # q, Esc
RESELECT_KEY = ord("r")
PAUSE_KEY = ord(" ")
#: OpenCV key codes may carry modifier bits above the low byte.
KEY_CODE_MASK = 0xFF
#: Redraw period of a held frame (selection preview, pause): smooth mouse feedback without spinning a core.
HOLD_REFRESH_MS = 30
#: Shortest wait after showing a fresh frame (OpenCV needs a wait to draw the window and read keys).
MIN_WAIT_MS = 1
#: Weight of the previous FPS estimate in its running average.
FPS_SMOOTHING = 0.9
MIN_ELAPSED_S = 1e-9
SELECT_HINT = "draw a box: click two corners or drag; space pauses, q quits"
PAUSED_HINT = "paused: space resumes"
#: Text line of the pause hint, below the confidence and FPS lines.
PAUSED_HINT_LINE = 2

FrameSink = Callable[[np.ndarray, Box | None], None]


def format_box(box: Box) -> str:
    """``x,y,w,h`` with one decimal, as the log reports boxes."""
    return ",".join(f"{v:.1f}" for v in box)


class WebcamApp:
    """Selecting / tracking / quit loop over RGB frames, with pause and frame hold.

    Args:
        tracker: any ``trackers.base.Tracker``.
        display: the window (``OpenCVDisplay``, ``NoDisplay`` or a test double).
        hold_while_selecting: keep the current frame while no target is selected (video files).
        frame_period: seconds between frames when playing a file at its own speed; None plays as fast as it goes.
        init_box: a box to start tracking on the first frame instead of waiting for a selection.
        on_frame: called once per source frame with its last rendering and the box drawn on it (or None).
        clock: seconds counter used for the FPS estimate and the pacing.
    """

    def __init__(self, tracker: Tracker, display: Display, *, hold_while_selecting: bool = False,
                 frame_period: float | None = None, init_box: Box | None = None, on_frame: FrameSink | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.tracker = tracker
        self.display = display
        self.hold_while_selecting = hold_while_selecting
        self.frame_period = frame_period
        self.init_box = init_box
        self.on_frame = on_frame
        self.clock = clock
        self.state = SELECTING
        self.paused = False
        self.box: Box | None = None
        self.score: float | None = None
        self.fps: float | None = None
        self.frames_tracked = 0
        self.frame_index = -1  # index of the current source frame
        self._shown: tuple[np.ndarray, Box | None] | None = None  # last rendering of the current frame, its box
        self._due: float | None = None  # when the frame on screen was due (pacing), then the next one

    def step(self, frame: np.ndarray, fresh: bool = True) -> str:
        """Process one RGB frame (``fresh``: new from the source, else held) and one key press; returns the state."""
        if fresh:
            self.frame_index += 1
        if self.state == SELECTING:
            box = self._take_box()
            if box is not None:
                self._start(frame, box)
        elif self.state == TRACKING and fresh:
            self._track(frame)
        canvas = self.render(frame)
        self._shown = (canvas, self.box if self.state == TRACKING else None)
        self._handle_key(self.display.show(canvas, self._wait_ms(fresh)))
        return self.state

    def advancing(self) -> bool:
        """Whether the next step gets a new frame (False while paused, or selecting with the frame held)."""
        return not self.paused and not (self.state == SELECTING and self.hold_while_selecting)

    def render(self, frame: np.ndarray) -> np.ndarray:
        """The frame with the current box / selection and status text."""
        if self.state == TRACKING:
            canvas = annotate(frame, self.box, self.score, self.fps)
        else:
            canvas = frame.copy()
            preview = self.display.selection_preview()
            if preview is not None:
                draw_box(canvas, preview, SELECTION_COLOR)
            draw_text(canvas, SELECT_HINT)
        if self.paused:
            draw_text(canvas, PAUSED_HINT, PAUSED_HINT_LINE)
        return canvas

    def run(self, frames: Iterable[np.ndarray], max_frames: int | None = None) -> None:
        """Loop until the frames end, ``max_frames`` source frames were shown, or the user quits."""
        iterator = iter(frames)
        frame = None
        while self.state != QUIT:
            fresh = frame is None or self.advancing()
            if fresh:
                self._hand_over()
                if max_frames is not None and self.frame_index + 1 >= max_frames:
                    break
                frame = next(iterator, None)
                if frame is None:
                    break
            self.step(frame, fresh)
        self._hand_over()

    def _take_box(self) -> Box | None:
        box, self.init_box = self.init_box, None
        return box if box is not None else self.display.take_selection()

    def _start(self, frame: np.ndarray, box: Box) -> None:
        logger.info("frame %d: tracking the target in box %s", self.frame_index, format_box(box))
        self.tracker.initialize(frame, box)
        self.box, self.score, self.fps = box, None, None
        self.state = TRACKING

    def _track(self, frame: np.ndarray) -> None:
        start = self.clock()
        output = self.tracker.track(frame)
        elapsed = max(self.clock() - start, MIN_ELAPSED_S)
        self.fps = 1.0 / elapsed if self.fps is None else FPS_SMOOTHING * self.fps + (1 - FPS_SMOOTHING) / elapsed
        self.box, self.score = output.box, output.score
        self.frames_tracked += 1

    def _handle_key(self, key: int) -> None:
        if key < 0:
            return
        code = key & KEY_CODE_MASK
        if code in QUIT_KEYS:
            self.state = QUIT
        elif code == RESELECT_KEY:
            logger.info("frame %d: re-selecting the target", self.frame_index)
            self.display.reset_selection()
            self.box, self.score = None, None
            self.state = SELECTING
        elif code == PAUSE_KEY:
            self.paused = not self.paused
            where = f" with box {format_box(self.box)}" if self.state == TRACKING else ""
            logger.info("frame %d: %s%s", self.frame_index, "paused" if self.paused else "resumed", where)

    def _wait_ms(self, fresh: bool) -> int:
        """How long the display waits for a key: the refresh period on a held frame, else what keeps the pace."""
        if not fresh:
            return HOLD_REFRESH_MS
        if self.frame_period is None:
            return MIN_WAIT_MS
        now = self.clock()
        due = (now if self._due is None else self._due) + self.frame_period
        if due <= now:  # behind (a slow tracker, or after a hold): show the next frame as soon as it is ready
            self._due = now
            return MIN_WAIT_MS
        self._due = due
        return max(MIN_WAIT_MS, round((due - now) * 1000))

    def _hand_over(self) -> None:
        if self._shown is not None and self.on_frame is not None:
            self.on_frame(*self._shown)
        self._shown = None
