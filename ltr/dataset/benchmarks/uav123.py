"""UAV123 and UAV123@10fps (Mueller et al., ECCV 2016).

Layout (``<root>`` = UAV123_ROOT / UAV123_10FPS_ROOT)::

    <root>/data_seq/UAV123/<folder>/000001.jpg ...     (UAV123_10fps for the 10 fps release)
    <root>/anno/UAV123/<seq>.txt                       comma-separated x,y,w,h per frame, NaN rows = absent

Split sequences (bird1_1..3, car1_1..3, ...) share one image folder with different frame ranges; the table
of ranges is the JSON resource ``uav123_sequences.json``. UAV123@10fps keeps every third frame (30 fps frame
``f`` is 10 fps frame ``(f - 1) / 3 + 1``), so its ranges are derived from the 30 fps table. The number of
frames actually used is the annotation length, cut to the images present; a disagreement with the table is
logged as a warning. Boxes are 1-based (Matlab convention), hence ``box_origin = 1``.
"""
from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ltr.dataset.benchmarks.common import (
    frame_pattern,
    image_numbers,
    report_missing,
    resolve_root,
    select_sequences,
)
from ltr.dataset.benchmarks.sequence import FrameList, Sequence
from ltr.utils.box_io import load_boxes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UAVEntry:
    """One row of the UAV123 table: 1-based inclusive frame range inside ``folder``."""

    name: str
    folder: str
    start_frame: int
    end_frame: int
    object_class: str

    @property
    def num_frames(self) -> int:
        return self.end_frame - self.start_frame + 1


@functools.lru_cache(maxsize=1)
def uav123_table() -> tuple[UAVEntry, ...]:
    """The 123 UAV123 (30 fps) entries, in the official order."""
    text = resources.files("ltr.dataset.benchmarks").joinpath("uav123_sequences.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return tuple(UAVEntry(*row) for row in data["sequences"])


def to_10fps(entry: UAVEntry) -> UAVEntry:
    """The UAV123@10fps range of a 30 fps entry: the kept frames ``f`` with ``(f - 1) % 3 == 0``, renumbered."""
    start = (entry.start_frame - 1 + 2) // 3 + 1
    end = (entry.end_frame - 1) // 3 + 1
    return UAVEntry(entry.name, entry.folder, start, end, entry.object_class)


def uav123_10fps_table() -> tuple[UAVEntry, ...]:
    """The 123 UAV123@10fps entries (ranges derived from the 30 fps table)."""
    return tuple(to_10fps(e) for e in uav123_table())


def _strip_prefix(name: str) -> str:
    return name[4:] if name.startswith("uav_") else name


def _load_uav(dataset: str, subdir: str, root: Path, entries: tuple[UAVEntry, ...], wanted: list[str] | None) -> list[Sequence]:
    by_name = {e.name: e for e in entries}
    names = select_sequences(dataset, by_name, wanted, aliases=_strip_prefix)
    folder_numbers: dict[str, set[int]] = {}
    sequences, missing = [], []
    for name in names:
        entry = by_name[name]
        folder = root / "data_seq" / subdir / entry.folder
        anno = root / "anno" / subdir / f"{name}.txt"
        if not anno.is_file() or not folder.is_dir():
            missing.append(name)
            continue
        gt = load_boxes(anno)
        count = len(gt)
        if count != entry.num_frames:
            logger.warning(
                "%s/%s: annotation %s has %d rows but the table says %d frames (%d..%d); using %d",
                dataset, name, anno, count, entry.num_frames, entry.start_frame, entry.end_frame, count,
            )
        last = entry.start_frame + count - 1
        if count and not (folder / f"{last:06d}.jpg").is_file():
            if entry.folder not in folder_numbers:
                folder_numbers[entry.folder] = set(image_numbers(folder))
            present = folder_numbers[entry.folder]
            available = 0
            while entry.start_frame + available in present and available < count:
                available += 1
            logger.warning(
                "%s/%s: only %d of %d annotated frames present in %s; using %d", dataset, name, available, count, folder, available
            )
            count = available
            gt = gt[:count]
        if count == 0:
            missing.append(name)
            continue
        frames = FrameList(frame_pattern(folder, "{:06d}.jpg"), range(entry.start_frame, entry.start_frame + count))
        sequences.append(Sequence(name, frames, gt, dataset, object_class=entry.object_class, box_origin=1))
    return report_missing(dataset, root, sequences, missing)


def _check_split(dataset: str, split: str | None) -> None:
    if split not in (None, "test", "all"):
        raise ValueError(f"data set '{dataset}' has no split '{split}' (it has one: test)")


def load_uav123(*, root: str | os.PathLike | None = None, split: str | None = None, sequences: list[str] | None = None) -> list[Sequence]:
    """UAV123 (30 fps): 123 sequences, names without the ``uav_`` prefix (``uav_bike1`` is accepted too)."""
    _check_split("uav123", split)
    path = resolve_root(root, "UAV123_ROOT", "uav123")
    return _load_uav("uav123", "UAV123", path, uav123_table(), sequences)


def load_uav123_10fps(
    *, root: str | os.PathLike | None = None, split: str | None = None, sequences: list[str] | None = None
) -> list[Sequence]:
    """UAV123@10fps: the same 123 sequences, every third frame."""
    _check_split("uav123_10fps", split)
    path = resolve_root(root, "UAV123_10FPS_ROOT", "uav123_10fps")
    return _load_uav("uav123_10fps", "UAV123_10fps", path, uav123_10fps_table(), sequences)
