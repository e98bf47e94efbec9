"""GOT-10k training view (layout read by ``ltr.dataset.benchmarks.got10k``; root: argument or GOT10K_ROOT)."""
from __future__ import annotations

import os
from typing import Sequence as SequenceType

from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.sequences import SequenceListDataset


def got10k(
    root: str | os.PathLike | None = None, split: str = "train", sequences: SequenceType[str] | None = None,
) -> SequenceListDataset:
    """GOT-10k ``train`` (default) or ``val`` sequences; frames with ``absence`` = 1 or ``cover`` = 0 are invalid.

    ``sequences`` restricts the set, e.g. to the reference ``vottrain`` list (not shipped here).

    Raises:
        ValueError: ``split`` is not a labelled split (``test`` has no per-frame labels).
        FileNotFoundError: no root (argument or GOT10K_ROOT) or missing folders.
    """
    if split not in ("train", "val"):
        raise ValueError(f"GOT-10k training split must be 'train' or 'val', got {split!r}")
    return SequenceListDataset(f"got10k_{split}", load_dataset("got10k", root=root, split=split, sequences=sequences))
