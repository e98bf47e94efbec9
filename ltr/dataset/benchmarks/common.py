"""Helpers shared by the benchmark loaders: data-set roots, lazy frame ranges, sequence selection."""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.box_io import load_boxes

logger = logging.getLogger(__name__)

_DIGITS = re.compile(r"\d+")


def resolve_root(root: str | os.PathLike | None, env_var: str, dataset: str) -> Path:
    """The data-set root: ``root`` if given, else the environment variable ``env_var``.

    Raises:
        FileNotFoundError: neither is set, or the folder does not exist (the message names both sources).
    """
    if root is None or str(root) == "":
        value = os.environ.get(env_var, "")
        if not value:
            raise FileNotFoundError(f"no root folder for data set '{dataset}': pass --dataset-root or set {env_var}")
        path = Path(value).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"data set '{dataset}': {env_var}={value} is not a folder")
        return path
    path = Path(root).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"data set '{dataset}': root folder {path} does not exist (from --dataset-root; env var {env_var})")
    return path


class LazyRange:
    """``range(start, start + count())`` whose length is computed on first use (e.g. from an annotation file).

    Used as the ``frame_ids`` of a ``FrameList`` so that listing a large training set reads no annotation.
    """

    def __init__(self, start: int, count: Callable[[], int]):
        self.start = start
        self._count = count
        self._range: range | None = None

    def _resolve(self) -> range:
        if self._range is None:
            self._range = range(self.start, self.start + int(self._count()))
        return self._range

    def __len__(self) -> int:
        return len(self._resolve())

    def __getitem__(self, index):
        return self._resolve()[index]


def image_numbers(folder: Path, extensions: tuple[str, ...] = (".jpg", ".jpeg", ".png")) -> list[int]:
    """Sorted frame numbers of the image files ``<number>.<ext>`` in ``folder`` (other files ignored)."""
    numbers = []
    with os.scandir(folder) as entries:
        for entry in entries:
            stem, ext = os.path.splitext(entry.name)
            if ext.lower() in extensions and _DIGITS.fullmatch(stem):
                numbers.append(int(stem))
    return sorted(numbers)


def frame_pattern(folder: Path, template: str) -> str:
    """A ``str.format`` pattern for files in ``folder`` (braces in the folder name escaped)."""
    escaped = str(folder).replace("{", "{{").replace("}", "}}")
    return escaped + os.sep + template


def count_lines(path: Path) -> int:
    """Number of non-blank lines of a text file."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return sum(1 for line in handle if line.strip())


def load_first_box(path: Path, num_frames: int) -> np.ndarray:
    """Ground truth of a hidden-label test sequence: row 0 from ``path``, NaN for the other ``num_frames - 1`` rows."""
    boxes = load_boxes(path)
    if len(boxes) == 0:
        raise ValueError(f"{path}: no first-frame box")
    gt = np.full((max(num_frames, 1), 4), np.nan)
    gt[0] = boxes[0]
    return gt


def load_flags(path: Path) -> np.ndarray:
    """Read a 0/1 (or integer) label file with one value per line or all values comma-separated, as int [N]."""
    text = path.read_text(encoding="utf-8", errors="replace")
    fields = [f for f in re.split(r"[,\s]+", text) if f]
    try:
        return np.asarray([int(float(f)) for f in fields], dtype=np.int64)
    except ValueError:
        raise ValueError(f"{path}: expected integer labels") from None


def select_sequences(
    dataset: str, available: Iterable[str], requested: Iterable[str] | None, aliases: Callable[[str], str] = lambda s: s
) -> list[str]:
    """Names to load: all ``available`` names, or the ``requested`` ones in the given order.

    Raises:
        ValueError: a requested name is not part of the data set (the message lists the unknown names).
    """
    available = list(available)
    if requested is None:
        return available
    known = set(available)
    wanted = [aliases(name) for name in requested]
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ValueError(f"data set '{dataset}' has no sequence(s) {', '.join(unknown)}")
    return wanted


def report_missing(dataset: str, root: Path, sequences: list[Sequence], missing: list[str]) -> list[Sequence]:
    """Warn about sequences listed for the data set but absent on disk; raise if none is present."""
    if missing:
        shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
        logger.warning("data set '%s' under %s: %d sequence(s) missing on disk: %s", dataset, root, len(missing), shown)
    if not sequences:
        raise FileNotFoundError(f"data set '{dataset}': no sequences found under {root}")
    return sequences
