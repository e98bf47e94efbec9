"""Windows for the webcam demo: the OpenCV window with mouse box selection, and a no-window stand-in.

``WebcamApp`` (``pytracking.webcam_app``) only talks to the ``Display`` protocol, so the loop runs the same
with a real window, without one (``--no-display`` / headless OpenCV with ``--init-box``) and with a scripted
display in tests.
"""
from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from pytracking.utils.video_io import GUI_HELP, gui_available

Box = tuple[float, float, float, float]

#: A press-move-release shorter than this (pixels, either axis) is a click, not a drag.
MIN_DRAG_PIXELS = 3
WINDOW_TITLE = "ATOM-EBM webcam"
#: Plain image window: no Qt toolbar or status bar, so window pixel (x, y) is image pixel (x, y).
WINDOW_FLAGS = cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL
NO_KEY = -1


def normalize_corners(p0: tuple[float, float], p1: tuple[float, float]) -> Box:
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
        self.box: Box | None = None

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

    def preview(self) -> Box | None:
        """The rectangle being drawn (anchor to cursor), if any."""
        if self.anchor is None or self.cursor is None:
            return None
        return normalize_corners(self.anchor, self.cursor)

    def take_box(self) -> Box | None:
        """The finished box (once), or None."""
        box, self.box = self.box, None
        return box


class Display(Protocol):
    """What the app needs from a window."""

    def show(self, image: np.ndarray, wait_ms: int) -> int:
        """Show an RGB image, wait up to ``wait_ms`` for a key; return its code or -1."""

    def take_selection(self) -> Box | None:
        """A box the user finished drawing (once), or None."""

    def selection_preview(self) -> Box | None:
        """The box being drawn, or None."""

    def reset_selection(self) -> None:
        """Forget any selection."""

    def close(self) -> None:
        """Close the window."""


class OpenCVDisplay:
    """An OpenCV window with mouse box selection (needs a GUI build of OpenCV and a display)."""

    def __init__(self, title: str = WINDOW_TITLE):
        if not gui_available():
            raise ValueError(f"the webcam demo needs a window: {GUI_HELP}")
        self.title = title
        self.selector = BoxSelector()
        cv2.namedWindow(title, WINDOW_FLAGS)
        cv2.setMouseCallback(title, self.selector.on_mouse)

    def show(self, image: np.ndarray, wait_ms: int) -> int:
        cv2.imshow(self.title, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        return cv2.waitKey(max(1, wait_ms))

    def take_selection(self) -> Box | None:
        return self.selector.take_box()

    def selection_preview(self) -> Box | None:
        return self.selector.preview()

    def reset_selection(self) -> None:
        self.selector.reset()

    def close(self) -> None:
        cv2.destroyWindow(self.title)


class NoDisplay:
    """No window (servers, recordings): shows nothing, never waits, no keys, no mouse selection."""

    def show(self, image: np.ndarray, wait_ms: int) -> int:
        return NO_KEY

    def take_selection(self) -> Box | None:
        return None

    def selection_preview(self) -> Box | None:
        return None

    def reset_selection(self) -> None:
        """Nothing to forget."""

    def close(self) -> None:
        """Nothing to close."""
