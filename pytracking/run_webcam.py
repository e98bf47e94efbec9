"""Live tracking demo: draw a box with the mouse, then watch it being tracked.

    python -m pytracking.run_webcam [--camera 0] [--source FILE] [--checkpoint F] [--param P] [--device D]

Select the target by clicking two opposite corners (click-click) or by dragging; any corner order works.
Keys: ``r`` re-select the target, ``q`` (or Esc) quit. ``--source`` plays a video file instead of the camera.
Needs a GUI build of OpenCV (``pip install opencv-contrib-python``) and a display.

The loop (``WebcamApp``) is independent of OpenCV's window: it talks to a ``Display`` (``OpenCVDisplay`` here,
a scripted one in tests), so selection, tracking, re-selection, quitting and the FPS estimate are testable.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Callable, Iterable, Protocol, Sequence

import cv2
import numpy as np

from pytracking.utils.drawing import SELECTION_COLOR, annotate, draw_box, draw_text
from pytracking.utils.video_io import GUI_HELP, gui_available, open_camera, open_video
from trackers.base import Tracker
from trackers.registry import build_tracker

logger = logging.getLogger("pytracking.run_webcam")

SELECTING = "selecting"
TRACKING = "tracking"
QUIT = "quit"
QUIT_KEYS = (ord("q"), 27)
RESELECT_KEY = ord("r")
MIN_DRAG_PIXELS = 3


def normalize_corners(p0: tuple[float, float], p1: tuple[float, float]) -> tuple[float, float, float, float]:
    """(x, y, w, h) of the rectangle spanned by two opposite corners given in any order."""
    x0, x1 = sorted((p0[0], p1[0]))
    y0, y1 = sorted((p0[1], p1[1]))
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


class BoxSelector:
    """Mouse state machine: click one corner then the opposite one, or press-drag-release.

    Feed it OpenCV mouse events with ``on_mouse``; ``take_box`` returns a finished box once.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget any partial or finished selection."""
        self.anchor: tuple[int, int] | None = None
        self.cursor: tuple[int, int] | None = None
        self.pressed = False
        self.box: tuple[float, float, float, float] | None = None

    def on_mouse(self, event: int, x: int, y: int, flags: int = 0, param: object = None) -> None:
        """OpenCV mouse callback."""
        if event == cv2.EVENT_MOUSEMOVE:
            self.cursor = (x, y)
        elif event == cv2.EVENT_LBUTTONDOWN:
            self.pressed = True
            if self.anchor is None:
                self.anchor, self.cursor = (x, y), (x, y)
            else:
                self._finish((x, y))
        elif event == cv2.EVENT_LBUTTONUP and self.pressed:
            self.pressed = False
            if self.anchor is not None and max(abs(x - self.anchor[0]), abs(y - self.anchor[1])) >= MIN_DRAG_PIXELS:
                self._finish((x, y))  # a drag; a plain click keeps the anchor for the second click

    def _finish(self, corner: tuple[int, int]) -> None:
        box = normalize_corners(self.anchor, corner)
        self.anchor, self.cursor, self.pressed = None, None, False
        if box[2] >= 1 and box[3] >= 1:
            self.box = box

    def preview(self) -> tuple[float, float, float, float] | None:
        """The rectangle being drawn (anchor to cursor), if any."""
        if self.anchor is None or self.cursor is None:
            return None
        return normalize_corners(self.anchor, self.cursor)

    def take_box(self) -> tuple[float, float, float, float] | None:
        """The finished box (once), or None."""
        box, self.box = self.box, None
        return box


class Display(Protocol):
    """What the app needs from a window."""

    def show(self, image: np.ndarray) -> int:
        """Show an RGB image; return the pressed key code or -1."""

    def take_selection(self) -> tuple[float, float, float, float] | None:
        """A box the user finished drawing (once), or None."""

    def selection_preview(self) -> tuple[float, float, float, float] | None:
        """The box being drawn, or None."""

    def reset_selection(self) -> None:
        """Forget any selection."""

    def close(self) -> None:
        """Close the window."""


class OpenCVDisplay:
    """An OpenCV window with mouse box selection."""

    def __init__(self, title: str = "ATOM-EBM webcam"):
        if not gui_available():
            raise ValueError(f"the webcam demo needs a window: {GUI_HELP}")
        self.title = title
        self.selector = BoxSelector()
        cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)
        cv2.setMouseCallback(title, self.selector.on_mouse)

    def show(self, image: np.ndarray) -> int:
        cv2.imshow(self.title, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        return cv2.waitKey(1)

    def take_selection(self) -> tuple[float, float, float, float] | None:
        return self.selector.take_box()

    def selection_preview(self) -> tuple[float, float, float, float] | None:
        return self.selector.preview()

    def reset_selection(self) -> None:
        self.selector.reset()

    def close(self) -> None:
        cv2.destroyWindow(self.title)


class WebcamApp:
    """Selecting / tracking / quit loop over RGB frames.

    Args:
        tracker: any ``trackers.base.Tracker``.
        display: the window (``OpenCVDisplay`` or a test double).
        clock: seconds counter used for the FPS estimate.
    """

    def __init__(self, tracker: Tracker, display: Display, clock: Callable[[], float] = time.perf_counter):
        self.tracker = tracker
        self.display = display
        self.clock = clock
        self.state = SELECTING
        self.box: tuple[float, float, float, float] | None = None
        self.score: float | None = None
        self.fps: float | None = None
        self.frames_tracked = 0

    def step(self, frame: np.ndarray) -> str:
        """Process one RGB frame and one key press; returns the new state."""
        if self.state == SELECTING:
            box = self.display.take_selection()
            if box is not None:
                logger.info("tracking the target in box %s", box)
                self.tracker.initialize(frame, box)
                self.box, self.score, self.fps = box, None, None
                self.state = TRACKING
        elif self.state == TRACKING:
            start = self.clock()
            output = self.tracker.track(frame)
            elapsed = max(self.clock() - start, 1e-9)
            self.fps = 1.0 / elapsed if self.fps is None else 0.9 * self.fps + 0.1 / elapsed
            self.box, self.score = output.box, output.score
            self.frames_tracked += 1
        key = self.display.show(self.render(frame))
        if key in QUIT_KEYS or (key >= 0 and (key & 0xFF) in QUIT_KEYS):
            self.state = QUIT
        elif key >= 0 and (key & 0xFF) == RESELECT_KEY:
            self.display.reset_selection()
            self.box = None
            self.state = SELECTING
        return self.state

    def render(self, frame: np.ndarray) -> np.ndarray:
        """The frame with the current box / selection and status text."""
        if self.state == TRACKING:
            return annotate(frame, self.box, self.score, self.fps)
        canvas = frame.copy()
        preview = self.display.selection_preview()
        if preview is not None:
            draw_box(canvas, preview, SELECTION_COLOR)
        draw_text(canvas, "draw a box: click two corners or drag; q quits")
        return canvas

    def run(self, frames: Iterable[np.ndarray]) -> None:
        """Loop until the frames end or the user quits."""
        for frame in frames:
            if self.step(frame) == QUIT:
                break


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface."""
    parser = argparse.ArgumentParser(prog="python -m pytracking.run_webcam", description=__doc__.split("\n\n")[0])
    parser.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    parser.add_argument("--source", help="play this video file instead of the camera")
    parser.add_argument("--tracker", default="atom_ebm", help="registered tracker name (default: atom_ebm)")
    parser.add_argument("--param", default="default", help="parameter set (default: default)")
    parser.add_argument("--checkpoint", help="network checkpoint (default: $ATOM_EBM_CHECKPOINT, then the bundled model)")
    parser.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda when available)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; user errors print one line on stderr and return 2."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    source = None
    display = None
    try:
        if not gui_available():
            raise ValueError(f"the webcam demo needs a window: {GUI_HELP}")
        source = open_video(args.source) if args.source else open_camera(args.camera)
        tracker = build_tracker(args.tracker, param=args.param, checkpoint=args.checkpoint, device=args.device)
        display = OpenCVDisplay()
        WebcamApp(tracker, display).run(source)
    except (FileNotFoundError, ValueError) as error:
        print(f"run_webcam: error: {error}", file=sys.stderr)
        return 2
    finally:
        if display is not None:
            display.close()
        if source is not None:
            source.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
