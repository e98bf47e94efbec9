"""LaSOT (Fan et al., CVPR 2019).

Layout (``<root>`` = LASOT_ROOT)::

    <root>/<class>/<class>-<k>/img/00000001.jpg ...
    <root>/<class>/<class>-<k>/groundtruth.txt            x,y,w,h per frame (1-based, ``box_origin = 1``)
    <root>/<class>/<class>-<k>/full_occlusion.txt         comma-separated 0/1 per frame
    <root>/<class>/<class>-<k>/out_of_view.txt            comma-separated 0/1 per frame
    <root>/testing_set.txt, <root>/training_set.txt       optional split lists (one sequence name per line)

Splits: ``test`` (default, 280 sequences), ``train`` (1120), ``all``. Without the list file the loader uses
every sequence found and warns. ``target_visible`` = not fully occluded and not out of view.
Ground truth and visibility are loaded lazily.
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np

from ltr.dataset.benchmarks.common import (
    LazyRange,
    count_lines,
    frame_pattern,
    load_flags,
    report_missing,
    resolve_root,
    select_sequences,
)
from ltr.dataset.benchmarks.sequence import FrameList, Sequence
from ltr.utils.box_io import load_boxes

logger = logging.getLogger(__name__)

_SPLIT_FILES = {"test": "testing_set.txt", "train": "training_set.txt"}


def lasot_visible(folder: Path) -> np.ndarray:
    """bool [N]: the target is neither fully occluded nor out of view (all True when the files are absent)."""
    num_frames = count_lines(folder / "groundtruth.txt")
    visible = np.ones(num_frames, dtype=bool)
    for flag_file in ("full_occlusion.txt", "out_of_view.txt"):
        if (folder / flag_file).is_file():
            flags = load_flags(folder / flag_file)
            if len(flags) != num_frames:
                raise ValueError(f"{folder / flag_file}: {len(flags)} labels for {num_frames} frames")
            visible &= flags == 0
    return visible


def _all_sequences(root: Path) -> list[str]:
    names = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        names.extend(p.name for p in sorted(class_dir.iterdir()) if p.is_dir() and p.name.startswith(class_dir.name + "-"))
    return names


def load_lasot(*, root: str | os.PathLike | None = None, split: str | None = None, sequences: list[str] | None = None) -> list[Sequence]:
    """LaSOT test (default), train or all sequences found under the root."""
    split = split or "test"
    if split not in ("test", "train", "all"):
        raise ValueError(f"data set 'lasot' has no split '{split}'; use test, train or all")
    path = resolve_root(root, "LASOT_ROOT", "lasot")
    if split == "all":
        listed = _all_sequences(path)
    elif (path / _SPLIT_FILES[split]).is_file():
        listed = [line.strip() for line in (path / _SPLIT_FILES[split]).read_text().splitlines() if line.strip()]
    else:
        logger.warning("lasot: %s not found under %s; using all sequences found for split '%s'", _SPLIT_FILES[split], path, split)
        listed = _all_sequences(path)
    names = select_sequences("lasot", listed, sequences)
    result, missing = [], []
    for name in names:
        object_class = name.rsplit("-", 1)[0]
        folder = path / object_class / name
        anno = folder / "groundtruth.txt"
        if not anno.is_file() or not (folder / "img").is_dir():
            missing.append(name)
            continue
        frames = FrameList(frame_pattern(folder / "img", "{:08d}.jpg"), LazyRange(1, functools.partial(count_lines, anno)))
        result.append(
            Sequence(
                name, frames, functools.partial(load_boxes, anno), "lasot",
                target_visible=functools.partial(lasot_visible, folder), object_class=object_class, box_origin=1,
            )
        )
    return report_missing("lasot", path, result, missing)
