"""Generic data set: one sub-folder per sequence with ``img/<frame>.jpg`` and ``groundtruth.txt``.

Layout (``<root>`` = FOLDER_ROOT)::

    <root>/<seq>/img/00001.jpg ...      any numbered .jpg/.png names, ordered by number
    <root>/<seq>/groundtruth.txt        one x,y,w,h row per image (comma, tab or space), NaN rows = absent

Boxes are taken as 0-based pixel coordinates (``box_origin = 0``); use ``otb`` for 1-based OTB-style trees.
"""
from __future__ import annotations

import os

from ltr.dataset.benchmarks.common import resolve_root
from ltr.dataset.benchmarks.otb import load_video_folders
from ltr.dataset.benchmarks.sequence import Sequence


def load_folder(*, root: str | os.PathLike | None = None, split: str | None = None, sequences: list[str] | None = None) -> list[Sequence]:
    """All ``<root>/<seq>`` folders holding ``img/`` and a ground-truth file."""
    if split not in (None, "test", "train", "all"):
        raise ValueError(f"data set 'folder' has no split '{split}' (the folder is one split)")
    path = resolve_root(root, "FOLDER_ROOT", "folder")
    return load_video_folders("folder", path, sequences, box_origin=0)
