"""TrackingNet (Müller et al., ECCV 2018): the 511-sequence test split and the TRAIN_0..TRAIN_11 chunks.

Layout (``<root>`` = TRACKINGNET_ROOT)::

    <root>/TEST/anno/<seq>.txt          test: first-frame box only (scoring happens on the server)
    <root>/TEST/frames/<seq>/0.jpg ...  frames numbered from 0
    <root>/TRAIN_<k>/anno/<seq>.txt     train chunk k: one box per frame
    <root>/TRAIN_<k>/frames/<seq>/<i>.jpg

Splits: ``test`` (default), ``train`` (every TRAIN_k chunk present), ``TRAIN_<k>`` or a comma-separated list
such as ``TRAIN_0,TRAIN_1``. Training chunks are loaded lazily (frame count = annotation rows).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

from ltr.dataset.benchmarks.common import (
    LazyRange,
    count_lines,
    frame_pattern,
    image_numbers,
    load_first_box,
    report_missing,
    resolve_root,
    select_sequences,
)
from ltr.dataset.benchmarks.sequence import FrameList, Sequence
from ltr.utils.box_io import load_boxes

TRAIN_CHUNKS = tuple(f"TRAIN_{k}" for k in range(12))


def _test_sequences(root: Path, wanted: list[str] | None) -> list[Sequence]:
    anno_dir = root / "TEST" / "anno"
    if not anno_dir.is_dir():
        raise FileNotFoundError(f"data set 'trackingnet': {anno_dir} does not exist")
    names = select_sequences("trackingnet", sorted(p.stem for p in anno_dir.glob("*.txt")), wanted)
    sequences, missing = [], []
    for name in names:
        frame_dir = root / "TEST" / "frames" / name
        numbers = image_numbers(frame_dir, (".jpg",)) if frame_dir.is_dir() else []
        if not numbers:
            missing.append(name)
            continue
        frames = FrameList(frame_pattern(frame_dir, "{:d}.jpg"), range(numbers[0], numbers[0] + len(numbers)))
        gt = functools.partial(load_first_box, anno_dir / f"{name}.txt", len(numbers))
        sequences.append(Sequence(name, frames, gt, "trackingnet"))
    return report_missing("trackingnet", root, sequences, missing)


def _train_chunks(root: Path, split: str) -> list[str]:
    if split == "train":
        chunks = [c for c in TRAIN_CHUNKS if (root / c / "anno").is_dir()]
        if not chunks:
            raise FileNotFoundError(f"data set 'trackingnet': no TRAIN_<k>/anno folder under {root}")
        return chunks
    chunks = [c.strip().upper() for c in split.split(",")]
    unknown = [c for c in chunks if c not in TRAIN_CHUNKS]
    if unknown:
        raise ValueError(f"data set 'trackingnet' has no split '{split}'; use test, train, TRAIN_0..TRAIN_11 or a comma list")
    for chunk in chunks:
        if not (root / chunk / "anno").is_dir():
            raise FileNotFoundError(f"data set 'trackingnet': {root / chunk / 'anno'} does not exist")
    return chunks


def _train_sequences(root: Path, split: str, wanted: list[str] | None) -> list[Sequence]:
    found: dict[str, Path] = {}
    for chunk in _train_chunks(root, split):
        for anno in sorted((root / chunk / "anno").glob("*.txt")):
            found[anno.stem] = root / chunk
    names = select_sequences("trackingnet", found, wanted)
    sequences, missing = [], []
    for name in names:
        chunk_dir = found[name]
        frame_dir = chunk_dir / "frames" / name
        if not frame_dir.is_dir():
            missing.append(name)
            continue
        anno = chunk_dir / "anno" / f"{name}.txt"
        frames = FrameList(frame_pattern(frame_dir, "{:d}.jpg"), LazyRange(0, functools.partial(count_lines, anno)))
        sequences.append(Sequence(name, frames, functools.partial(load_boxes, anno), "trackingnet"))
    return report_missing("trackingnet", root, sequences, missing)


def load_trackingnet(
    *, root: str | os.PathLike | None = None, split: str | None = None, sequences: list[str] | None = None
) -> list[Sequence]:
    """TrackingNet test (default) or training chunks; see the module docstring for ``split`` values."""
    path = resolve_root(root, "TRACKINGNET_ROOT", "trackingnet")
    if split in (None, "test", "TEST"):
        return _test_sequences(path, sequences)
    return _train_sequences(path, split, sequences)
