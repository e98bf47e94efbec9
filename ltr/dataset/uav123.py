"""UAV123 / UAV123@10fps training view (layout read by ``ltr.dataset.benchmarks.uav123``).

UAV123 is an evaluation benchmark: train only on sequences that are not evaluated (here: ``wakeboard7``
of the local mini tree). Root: argument or UAV123_ROOT / UAV123_10FPS_ROOT.
"""
from __future__ import annotations

import os
from typing import Sequence as SequenceType

from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.sequences import SequenceListDataset


def uav123(
    root: str | os.PathLike | None = None, sequences: SequenceType[str] | None = None, fps10: bool = False,
) -> SequenceListDataset:
    """The named (or all present) UAV123 sequences (``fps10``: the UAV123@10fps release); NaN rows are invalid."""
    name = "uav123_10fps" if fps10 else "uav123"
    return SequenceListDataset(name, load_dataset(name, root=root, sequences=sequences))
