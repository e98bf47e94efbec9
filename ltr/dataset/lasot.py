"""LaSOT training view (layout read by ``ltr.dataset.benchmarks.lasot``; root: argument or LASOT_ROOT)."""
from __future__ import annotations

import os
from typing import Sequence as SequenceType

from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.benchmarks.common import resolve_root
from ltr.dataset.sequences import SequenceListDataset


def lasot(
    root: str | os.PathLike | None = None, split: str = "train", sequences: SequenceType[str] | None = None,
) -> SequenceListDataset:
    """LaSOT ``train`` (default, 1120 sequences from ``training_set.txt``) or ``all``; boxes converted to 0-based.

    Frames marked in ``full_occlusion.txt`` or ``out_of_view.txt`` are invalid.

    Raises:
        ValueError: ``split`` is ``test`` (reserved for evaluation) or unknown.
        FileNotFoundError: no root (argument or LASOT_ROOT), missing folders, or (split ``train``) no
            ``training_set.txt`` under the root.
    """
    if split not in ("train", "all"):
        raise ValueError(f"LaSOT training split must be 'train' or 'all', got {split!r}")
    path = resolve_root(root, "LASOT_ROOT", "lasot")
    if split == "train" and not (path / "training_set.txt").is_file():
        # without the list the benchmark loader would fall back to every sequence, test sequences included
        raise FileNotFoundError(f"LaSOT split list not found: {path / 'training_set.txt'} (needed to exclude test sequences)")
    return SequenceListDataset(f"lasot_{split}", load_dataset("lasot", root=path, split=split, sequences=sequences))
