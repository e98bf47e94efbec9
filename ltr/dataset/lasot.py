"""LaSOT training view (layout read by ``pytracking.evaluation.datasets.lasot``; root: argument or LASOT_ROOT)."""
from __future__ import annotations

import os
from typing import Sequence as SequenceType

from ltr.dataset.sequences import SequenceListDataset
from pytracking.evaluation.datasets import load_dataset


def lasot(
    root: str | os.PathLike | None = None, split: str = "train", sequences: SequenceType[str] | None = None,
) -> SequenceListDataset:
    """LaSOT ``train`` (default, 1120 sequences from ``training_set.txt``) or ``all``; boxes converted to 0-based.

    Frames marked in ``full_occlusion.txt`` or ``out_of_view.txt`` are invalid.

    Raises:
        ValueError: ``split`` is ``test`` (reserved for evaluation) or unknown.
        FileNotFoundError: no root (argument or LASOT_ROOT) or missing folders.
    """
    if split not in ("train", "all"):
        raise ValueError(f"LaSOT training split must be 'train' or 'all', got {split!r}")
    return SequenceListDataset(f"lasot_{split}", load_dataset("lasot", root=root, split=split, sequences=sequences))
