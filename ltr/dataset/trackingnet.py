"""TrackingNet training view (layout read by ``ltr.dataset.benchmarks.trackingnet``; root: argument or
TRACKINGNET_ROOT)."""
from __future__ import annotations

import os
from typing import Iterable
from typing import Sequence as SequenceType

from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.sequences import SequenceListDataset


def trackingnet(
    root: str | os.PathLike | None = None, chunks: Iterable[int] = range(4), sequences: SequenceType[str] | None = None,
) -> SequenceListDataset:
    """TrackingNet training chunks ``TRAIN_<k>`` for k in ``chunks`` (the reference ATOM uses 0..3).

    Raises:
        ValueError: a chunk outside 0..11, or no chunk.
        FileNotFoundError: no root (argument or TRACKINGNET_ROOT) or a missing chunk folder.
    """
    chunks = sorted(set(int(k) for k in chunks))
    if not chunks or chunks[0] < 0 or chunks[-1] > 11:
        raise ValueError(f"TrackingNet training chunks must be a non-empty subset of 0..11, got {chunks}")
    split = ",".join(f"TRAIN_{k}" for k in chunks)
    return SequenceListDataset("trackingnet", load_dataset("trackingnet", root=root, split=split, sequences=sequences))
