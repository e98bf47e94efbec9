"""DataLoader construction for deterministic training: same seed -> same batches for any worker count.

``build_loader`` uses ``EpochSampler``, which yields ``(epoch, index)`` pairs: the data set (e.g.
``ltr.data.sampler.ATOMSampler``) derives every item from ``(seed, epoch, index)``, so persistent workers need
no epoch update and the batches do not depend on the number of workers. Call ``set_epoch(loader, epoch)``
before iterating each epoch.
"""
from __future__ import annotations

import math
from typing import Iterator

import cv2
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class EpochSampler(Sampler):
    """Yields ``(epoch, index)`` for the indices of one epoch, optionally shuffled and sharded across ranks.

    Args:
        length: data-set length.
        seed: shuffle seed (the order of epoch e depends only on (seed, e)).
        shuffle: permute the indices each epoch (the items are already random; shuffling only reorders them).
        num_replicas, rank: DDP sharding; rank r takes positions r, r + R, ... of the (padded) epoch order.
        drop_last: with sharding, drop the tail that does not divide evenly instead of padding by wrap-around.
    """

    def __init__(self, length: int, seed: int = 0, shuffle: bool = False, num_replicas: int = 1, rank: int = 0, drop_last: bool = False):
        if length < 1:
            raise ValueError(f"length must be >= 1, got {length}")
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"need num_replicas >= 1 and 0 <= rank < num_replicas, got {num_replicas}, {rank}")
        self.length = int(length)
        self.seed = int(seed)
        self.shuffle = shuffle
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        if drop_last:
            self.num_samples = self.length // self.num_replicas
        else:
            self.num_samples = math.ceil(self.length / self.num_replicas)
        if self.num_samples < 1:
            raise ValueError(f"{self.length} samples cannot be split across {self.num_replicas} replicas with drop_last")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[tuple[int, int]]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.length, generator=generator).tolist()
        else:
            order = list(range(self.length))
        total = self.num_samples * self.num_replicas
        order = (order * math.ceil(total / self.length))[:total]
        for index in order[self.rank : total : self.num_replicas]:
            yield self.epoch, index


def epoch_and_index(item: int | tuple[int, int], epoch: int, length: int) -> tuple[int, int]:
    """``(epoch, index)`` of a data-set item: a tuple from ``EpochSampler``, or a bare index in ``epoch``.

    Raises:
        IndexError: the index is outside ``[0, length)``.
    """
    epoch, index = (int(item[0]), int(item[1])) if isinstance(item, tuple) else (int(epoch), int(item))
    if not 0 <= index < length:
        raise IndexError(f"sample index {index} out of range [0, {length})")
    return epoch, index


def limit_worker_threads(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: one OpenCV and one torch thread per worker (workers already run in parallel)."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def build_loader(
    dataset: Dataset,
    batch_size: int,
    workers: int,
    seed: int,
    shuffle: bool = False,
    distributed: bool = False,
    drop_last: bool = True,
) -> DataLoader:
    """A DataLoader over ``dataset`` whose batches depend only on ``seed`` and the epoch.

    Args:
        dataset: map-style data set accepting ``(epoch, index)`` items (``ATOMSampler``).
        batch_size: samples per batch (per process when distributed).
        workers: worker processes (0 = load in the main process); workers are persistent and spawned.
        seed: seed of the index order (used when ``shuffle``).
        shuffle: permute the indices each epoch.
        distributed: shard the indices across ``torch.distributed`` ranks (the process group must be initialised).
        drop_last: drop the last incomplete batch.

    Raises:
        ValueError: bad sizes, or ``distributed`` without an initialised process group.
    """
    if batch_size < 1 or workers < 0:
        raise ValueError(f"batch_size must be >= 1 and workers >= 0, got {batch_size}, {workers}")
    num_replicas, rank = 1, 0
    if distributed:
        if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            raise ValueError("distributed=True needs an initialised torch.distributed process group (launch with torchrun)")
        num_replicas, rank = torch.distributed.get_world_size(), torch.distributed.get_rank()
    sampler = EpochSampler(len(dataset), seed=seed, shuffle=shuffle, num_replicas=num_replicas, rank=rank, drop_last=drop_last)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=torch.cuda.is_available(),
        drop_last=drop_last,
        worker_init_fn=limit_worker_threads if workers > 0 else None,
        # spawn, not fork: a worker forked from a parent whose OpenMP / OpenCV thread pools already ran can
        # deadlock (seen: the 2-worker loader hung after other torch work in the same process)
        multiprocessing_context="spawn" if workers > 0 else None,
        generator=torch.Generator().manual_seed(int(seed)),
    )


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Select the epoch of a loader made by ``build_loader`` (its index sampler and, if it has one, its data set)."""
    loader.sampler.set_epoch(epoch)
    if hasattr(loader.dataset, "set_epoch"):
        loader.dataset.set_epoch(epoch)
