"""Drawing helpers for tracker output: box, confidence and FPS overlays on RGB images."""
from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

BOX_COLOR = (0, 255, 0)
TEXT_COLOR = (255, 255, 0)
SELECTION_COLOR = (255, 0, 0)


def draw_box(image: np.ndarray, box: Sequence[float], color: tuple[int, int, int] = BOX_COLOR,
             thickness: int = 2) -> np.ndarray:
    """Draw the (x, y, w, h) ``box`` on ``image`` in place (rounded to pixels) and return it."""
    x, y, w, h = (float(v) for v in box)
    if all(math.isfinite(v) for v in (x, y, w, h)):
        top_left = (int(round(x)), int(round(y)))
        bottom_right = (int(round(x + w)) - 1, int(round(y + h)) - 1)
        cv2.rectangle(image, top_left, bottom_right, color, thickness)
    return image


def draw_text(image: np.ndarray, text: str, line: int = 0, color: tuple[int, int, int] = TEXT_COLOR) -> np.ndarray:
    """Write ``text`` on line ``line`` at the top-left corner of ``image`` in place (with a dark outline)."""
    origin = (8, 22 + 22 * line)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.6, color, 1, cv2.LINE_AA)
    return image


def annotate(image: np.ndarray, box: Sequence[float] | None, score: float | None = None,
             fps: float | None = None) -> np.ndarray:
    """A copy of the RGB ``image`` with the box, "conf <score>" (or "lost") and "<fps> FPS" drawn on it."""
    canvas = image.copy()
    if box is not None:
        draw_box(canvas, box)
    line = 0
    if score is not None:
        draw_text(canvas, f"conf {score:.2f}" if math.isfinite(score) else "lost", line)
        line += 1
    if fps is not None:
        draw_text(canvas, f"{fps:.1f} FPS", line)
    return canvas
