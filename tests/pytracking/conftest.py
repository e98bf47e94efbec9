"""Fixtures for the webcam demo tests: a short clip of the bundled Couple sequence and a drawn-box detector."""
from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest

COUPLE = Path(str(importlib.resources.files("pytracking") / "demo_data" / "Couple"))
#: Rows above this hold the demo's status text (three lines), which may cover the top of a box.
TEXT_BAND_ROWS = 72
#: Edge points sampled every this many pixels.
EDGE_STEP = 2


@pytest.fixture
def couple_truth() -> np.ndarray:
    """Couple's ground-truth boxes, 0-based (x, y, w, h), one row per frame."""
    return np.loadtxt(COUPLE / "groundtruth.txt", delimiter=",")


@pytest.fixture
def couple_clip(tmp_path) -> Callable[[int, float], Path]:
    """Factory: an MJPG .avi of the first ``frames`` Couple images at ``fps``."""

    def make(frames: int, fps: float = 10.0) -> Path:
        images = sorted((COUPLE / "img").glob("*.jpg"))[:frames]
        first = cv2.imread(str(images[0]))
        path = tmp_path / f"couple{frames}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (first.shape[1], first.shape[0]))
        for image in images:
            writer.write(cv2.imread(str(image)))
        writer.release()
        return path

    return make


def box_outline_share(image: np.ndarray, box, is_box_color: Callable[[np.ndarray], np.ndarray],
                      offset: tuple[int, int] = (0, 0)) -> float:
    """Share of points on the edges of ``box`` (as ``draw_box`` rounds it; below the text band) that have a
    box-coloured pixel within one pixel. ``offset``: where the frame's (0, 0) lies in ``image``."""
    x, y, w, h = box
    left, top, right, bottom = round(x), round(y), round(x + w) - 1, round(y + h) - 1
    rows, columns = range(top, bottom + 1, EDGE_STEP), range(left, right + 1, EDGE_STEP)
    points = [(left, r) for r in rows] + [(right, r) for r in rows] + [(c, top) for c in columns] + [(c, bottom) for c in columns]
    mask = is_box_color(image)
    hits = []
    for column, row in points:
        if row < TEXT_BAND_ROWS:
            continue
        column, row = column + offset[0], row + offset[1]
        hits.append(bool(mask[max(row - 1, 0):row + 2, max(column - 1, 0):column + 2].any()))
    assert hits, f"no edge point of box {box} below the text band"
    return float(np.mean(hits))


@pytest.fixture
def outline_share() -> Callable[..., float]:
    """``box_outline_share`` (a fixture so that the webcam test modules share it)."""
    return box_outline_share
