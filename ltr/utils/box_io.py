"""Reading and writing per-frame box files (one ``x,y,w,h`` row per frame).

Readers accept comma, tab, semicolon or whitespace separators and ``NaN`` rows (target absent);
malformed lines raise ``ValueError`` naming the file and the 1-based line number.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ltr.utils.files import atomic_write_text

_SEPARATORS = re.compile(r"[,\t; ]+")


def load_boxes(path: str | os.PathLike, num_columns: int = 4) -> np.ndarray:
    """Load a box file as float64 [N, num_columns]; blank lines are skipped, NaN rows kept.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line does not hold ``num_columns`` numbers (file and line number in the message).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"box file not found: {path}")
    rows: list[list[float]] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line_number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            fields = [f for f in _SEPARATORS.split(text) if f]
            try:
                values = [float(f) for f in fields]
            except ValueError:
                raise ValueError(f"{path}:{line_number}: cannot parse box line {text!r}") from None
            if len(values) != num_columns:
                raise ValueError(f"{path}:{line_number}: expected {num_columns} values, got {len(values)} in {text!r}")
            rows.append(values)
    return np.asarray(rows, dtype=np.float64).reshape(-1, num_columns)


def format_boxes(boxes: np.ndarray, decimals: int = 2, delimiter: str = ",") -> str:
    """Format [N, 4] boxes as text lines with fixed decimals (NaN written as ``nan``)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return "".join(delimiter.join(f"{v:.{decimals}f}" for v in row) + "\n" for row in boxes)


def save_boxes(path: str | os.PathLike, boxes: np.ndarray, decimals: int = 2, delimiter: str = ",") -> None:
    """Atomically write [N, 4] float boxes, one ``x,y,w,h`` row per frame."""
    atomic_write_text(path, format_boxes(boxes, decimals, delimiter))
