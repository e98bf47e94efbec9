"""Benchmark and training data sets as lists of ``Sequence`` objects, behind one registry.

``load_dataset(name, root=None, split=None, sequences=None)``; the root comes from the argument or the
data set's environment variable:

=============== ===================== ===================================================== =========
name            env var               splits                                                 layout
=============== ===================== ===================================================== =========
uav123          UAV123_ROOT           (all 123)                                              data_seq/UAV123/<folder>/%06d.jpg, anno/UAV123/<seq>.txt
uav123_10fps    UAV123_10FPS_ROOT     (all 123)                                              data_seq/UAV123_10fps/..., anno/UAV123_10fps/<seq>.txt
otb             OTB_ROOT              (all found)                                            <Seq>/img/%04d.jpg, <Seq>/groundtruth_rect[.k].txt
folder          FOLDER_ROOT           (all found)                                            <seq>/img/*.jpg, <seq>/groundtruth.txt
trackingnet     TRACKINGNET_ROOT      test (default), train, TRAIN_0..TRAIN_11, "TRAIN_0,..." TEST/anno/<seq>.txt, TEST/frames/<seq>/<i>.jpg
lasot           LASOT_ROOT            test (default), train, all                             <class>/<class>-<k>/img/%08d.jpg, groundtruth.txt
got10k          GOT10K_ROOT           val (default), test, train                             <split>/<seq>/%08d.jpg, groundtruth.txt
=============== ===================== ===================================================== =========
"""
from __future__ import annotations

import os
from typing import Callable, Iterable

from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.registry import LazyRegistry

DatasetLoader = Callable[..., list[Sequence]]

# loaders take keyword arguments root, split, sequences
_DATASETS: LazyRegistry[DatasetLoader] = LazyRegistry("data set", {
    "uav123": "ltr.dataset.benchmarks.uav123:load_uav123",
    "uav123_10fps": "ltr.dataset.benchmarks.uav123:load_uav123_10fps",
    "otb": "ltr.dataset.benchmarks.otb:load_otb",
    "folder": "ltr.dataset.benchmarks.folder:load_folder",
    "trackingnet": "ltr.dataset.benchmarks.trackingnet:load_trackingnet",
    "lasot": "ltr.dataset.benchmarks.lasot:load_lasot",
    "got10k": "ltr.dataset.benchmarks.got10k:load_got10k",
})


def register_dataset(name: str, loader: DatasetLoader) -> None:
    """Register ``loader(root=..., split=..., sequences=...) -> list[Sequence]`` as ``name``; duplicates are errors."""
    _DATASETS.register(name, loader)


def list_datasets() -> list[str]:
    """Names of all registered data sets, sorted."""
    return _DATASETS.names()


def get_dataset_loader(name: str) -> DatasetLoader:
    """The loader registered as ``name``; ``ValueError`` listing the valid names otherwise."""
    return _DATASETS.get(name)


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    split: str | None = None,
    sequences: Iterable[str] | None = None,
) -> list[Sequence]:
    """Load the sequences of data set ``name``.

    Args:
        name: registry key, see ``list_datasets()``.
        root: data-set folder; None = the data set's environment variable (e.g. ``UAV123_ROOT``).
        split: data-set specific split (None = the evaluation split).
        sequences: optional names to keep, in this order (unknown names are a ``ValueError``).

    Returns:
        Sequences present on disk (missing ones are logged as a warning).

    Raises:
        FileNotFoundError: no root given / root missing / no sequence found.
        ValueError: unknown data set, split or sequence name.
    """
    return get_dataset_loader(name)(root=root, split=split, sequences=None if sequences is None else list(sequences))
