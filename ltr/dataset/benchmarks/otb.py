"""OTB-100 (Wu, Lim, Yang, TPAMI 2015) and any tree in its layout.

Layout (``<root>`` = OTB_ROOT)::

    <root>/<Seq>/img/0001.jpg ...
    <root>/<Seq>/groundtruth_rect.txt        (or groundtruth.txt; comma, tab or space separated)
    <root>/<Seq>/groundtruth_rect.1.txt ...  several targets in one video -> sequences <Seq>-1, <Seq>-2

Sequences are the sub-folders holding ``img/`` and a ground-truth file. Frame ``i`` of the annotation is the
``i``-th image counted from the sequence's first annotated frame (1 unless listed in ``OTB_START_FRAMES``);
extra images after the annotated range are ignored with a warning. Boxes are 1-based (``box_origin = 1``).
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from ltr.dataset.benchmarks.common import report_missing, resolve_root, select_sequences
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.box_io import load_boxes

logger = logging.getLogger(__name__)

#: OTB-100 videos whose annotation starts after image 1 (first annotated image number).
OTB_START_FRAMES: dict[str, int] = {"David": 300, "Tiger1": 6, "BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18}

_NUMBERED_GT = re.compile(r"groundtruth_rect\.(\d+)\.txt")


def _ground_truth_files(folder: Path) -> list[tuple[str, Path]]:
    """(sequence name, annotation file) pairs found in one OTB video folder."""
    numbered = sorted(
        ((int(m.group(1)), folder / m.group(0)) for m in map(_NUMBERED_GT.fullmatch, os.listdir(folder)) if m),
    )
    if len(numbered) > 1:
        return [(f"{folder.name}-{k}", path) for k, path in numbered]
    for candidate in ("groundtruth_rect.txt", "groundtruth.txt"):
        if (folder / candidate).is_file():
            return [(folder.name, folder / candidate)]
    return [(folder.name, numbered[0][1])] if numbered else []


def _image_paths(img_dir: Path) -> dict[int, str]:
    """Frame number -> path for the numbered images in ``img_dir``."""
    paths = {}
    for name in os.listdir(img_dir):
        stem, ext = os.path.splitext(name)
        if ext.lower() in (".jpg", ".jpeg", ".png") and stem.isdigit():
            paths[int(stem)] = str(img_dir / name)
    return paths


def _build_sequence(dataset: str, name: str, video: Path, anno: Path, start: int, box_origin: float) -> Sequence | None:
    gt = load_boxes(anno)
    paths = _image_paths(video / "img")
    numbers = [n for n in sorted(paths) if n >= start]
    count = len(gt)
    if len(numbers) < count:
        logger.warning("%s/%s: %d annotation rows but only %d images from frame %d; using %d", dataset, name, count, len(numbers), start, len(numbers))
        count = len(numbers)
    elif len(numbers) > count:
        logger.info("%s/%s: %d images but %d annotation rows; using the first %d", dataset, name, len(numbers), count, count)
    if count == 0:
        return None
    numbers = numbers[:count]
    if numbers[-1] - numbers[0] != count - 1:
        logger.warning("%s/%s: image numbers are not consecutive in %s", dataset, name, video / "img")
    frames = [paths[n] for n in numbers]
    return Sequence(name, frames, gt[:count], dataset, box_origin=box_origin)


def load_video_folders(dataset: str, root: Path, sequences: list[str] | None, box_origin: float,
                       start_frames: dict[str, int] | None = None) -> list[Sequence]:
    """Load every ``<root>/<video>/img`` + ground-truth sub-folder as sequences (shared by ``otb`` and ``folder``)."""
    start_frames = start_frames or {}
    found: dict[str, tuple[Path, Path]] = {}
    for video in sorted(p for p in root.iterdir() if p.is_dir()):
        if not (video / "img").is_dir():
            continue
        for name, anno in _ground_truth_files(video):
            found[name] = (video, anno)
    names = select_sequences(dataset, found, sequences)
    result, missing = [], []
    for name in names:
        video, anno = found[name]
        sequence = _build_sequence(dataset, name, video, anno, start_frames.get(video.name, 1), box_origin)
        if sequence is None:
            missing.append(name)
        else:
            result.append(sequence)
    return report_missing(dataset, root, result, missing)


def load_otb(*, root: str | os.PathLike | None = None, split: str | None = None, sequences: list[str] | None = None) -> list[Sequence]:
    """OTB-100 (or any subset present under the root): one sequence per video folder / target."""
    if split not in (None, "test", "all"):
        raise ValueError(f"data set 'otb' has no split '{split}' (it has one: test)")
    path = resolve_root(root, "OTB_ROOT", "otb")
    return load_video_folders("otb", path, sequences, box_origin=1, start_frames=OTB_START_FRAMES)
