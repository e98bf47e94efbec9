"""GOT-10k (Huang et al., TPAMI 2019).

Layout (``<root>`` = GOT10K_ROOT)::

    <root>/<split>/list.txt                         optional sequence list (else every sub-folder)
    <root>/<split>/<seq>/00000001.jpg ...
    <root>/<split>/<seq>/groundtruth.txt            x,y,w,h per frame (test split: first frame only)
    <root>/<split>/<seq>/absence.label              1 = target absent (train/val)
    <root>/<split>/<seq>/cover.label                0..8 visible fraction; 0 = fully occluded (train/val)

Splits: ``val`` (default), ``test``, ``train``. For ``test`` only the first-frame box is known (NaN after).
``target_visible`` = not absent and cover > 0. Everything is loaded lazily.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from ltr.dataset.benchmarks.common import (
    LazyRange,
    count_lines,
    frame_pattern,
    image_numbers,
    load_first_box,
    load_flags,
    report_missing,
    resolve_root,
    select_sequences,
)
from ltr.dataset.benchmarks.sequence import FrameList, Sequence
from ltr.utils.box_io import load_boxes


def got10k_visible(folder: Path) -> np.ndarray:
    """bool [N] from absence.label / cover.label: visible = not absent and cover > 0."""
    num_frames = count_lines(folder / "groundtruth.txt")
    visible = np.ones(num_frames, dtype=bool)
    for label, invisible in (("absence.label", lambda v: v != 0), ("cover.label", lambda v: v == 0)):
        if (folder / label).is_file():
            values = load_flags(folder / label)
            if len(values) != num_frames:
                raise ValueError(f"{folder / label}: {len(values)} labels for {num_frames} frames")
            visible &= ~invisible(values)
    return visible


def _count_images(folder: Path) -> int:
    return len(image_numbers(folder, (".jpg",)))


def _test_ground_truth(folder: Path) -> np.ndarray:
    return load_first_box(folder / "groundtruth.txt", _count_images(folder))


def load_got10k(*, root: str | os.PathLike | None = None, split: str | None = None, sequences: list[str] | None = None) -> list[Sequence]:
    """GOT-10k val (default), test or train sequences."""
    split = split or "val"
    if split not in ("val", "test", "train"):
        raise ValueError(f"data set 'got10k' has no split '{split}'; use val, test or train")
    path = resolve_root(root, "GOT10K_ROOT", "got10k")
    split_dir = path / split
    if not split_dir.is_dir():
        raise FileNotFoundError(f"data set 'got10k': split folder {split_dir} does not exist")
    if (split_dir / "list.txt").is_file():
        listed = [line.strip() for line in (split_dir / "list.txt").read_text().splitlines() if line.strip()]
    else:
        listed = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    names = select_sequences("got10k", listed, sequences)
    result, missing = [], []
    for name in names:
        folder = split_dir / name
        anno = folder / "groundtruth.txt"
        if not anno.is_file():
            missing.append(name)
            continue
        pattern = frame_pattern(folder, "{:08d}.jpg")
        if split == "test":
            frames = FrameList(pattern, LazyRange(1, functools.partial(_count_images, folder)))
            result.append(Sequence(name, frames, functools.partial(_test_ground_truth, folder), "got10k"))
        else:
            frames = FrameList(pattern, LazyRange(1, functools.partial(count_lines, anno)))
            result.append(
                Sequence(name, frames, functools.partial(load_boxes, anno), "got10k",
                         target_visible=functools.partial(got10k_visible, folder))
            )
    return report_missing("got10k", path, result, missing)
