"""Training view of a folder of sequences (``<root>/<seq>/img/*.jpg`` + ``groundtruth.txt``, 0-based boxes).

This is the layout written by ``SyntheticDataset.write_folder``; root: argument or FOLDER_ROOT.
For 1-based OTB trees use ``otb``.
"""
from __future__ import annotations

import os
from typing import Sequence as SequenceType

from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.sequences import SequenceListDataset


def folder(
    root: str | os.PathLike | None = None, sequences: SequenceType[str] | None = None, name: str = "folder",
) -> SequenceListDataset:
    """All (or the named) sequences of a folder tree with 0-based ``x,y,w,h`` ground truth (NaN rows invalid)."""
    return SequenceListDataset(name, load_dataset("folder", root=root, sequences=sequences))


def otb(
    root: str | os.PathLike | None = None, sequences: SequenceType[str] | None = None, name: str = "otb",
) -> SequenceListDataset:
    """OTB-layout sequences (1-based ``groundtruth_rect.txt`` / ``groundtruth.txt``; root: argument or OTB_ROOT)."""
    return SequenceListDataset(name, load_dataset("otb", root=root, sequences=sequences))
