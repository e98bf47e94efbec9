"""ATOM frame-pair sampler: a map-style ``torch.utils.data.Dataset`` whose items are deterministic.

Item ``index`` of epoch ``epoch`` depends only on ``(seed, epoch, index)`` (``np.random.default_rng([seed, epoch,
index])`` plus a ``torch.Generator`` seeded from it for the proposals), never on the worker that computes it or
on the order of requests: runs with 0 or 8 workers give the same batches, resume is exact and DDP can shard
indices. The loader of ``ltr.data.loader`` passes ``(epoch, index)`` tuples so persistent workers see the epoch.
"""
from __future__ import annotations

import logging
from typing import Callable, Sequence

import numpy as np
import torch

from ltr.data.loader import epoch_and_index
from ltr.dataset.base import SequenceInfo, TrainingDataset

logger = logging.getLogger(__name__)

Processing = Callable[..., dict]

_MAX_ATTEMPTS = 100


class ATOMSampler(torch.utils.data.Dataset):
    """Samples (train frame, test frame) pairs from weighted training data sets and processes them.

    Per item: pick a data set with probability proportional to its weight, a sequence uniformly (video sets:
    at least ``min_sequence_length`` frames and ``min_valid_frames`` valid ones; other sequences are redrawn),
    a valid base (train) frame uniformly, and a valid test frame uniformly from the index range
    ``[base - max_gap, base + max_gap)`` (it may equal the base frame). Image-only sets use their single
    frame twice. An unreadable frame is logged and another sample is drawn (at most ``max_read_failures``).

    Args:
        datasets: training data sets (``ltr.dataset.base.TrainingDataset``).
        weights: sampling weights, one per data set (normalised here).
        samples_per_epoch: length of the data set seen by the DataLoader.
        max_gap: maximum frame distance between the train and the test frame.
        processing: ``processing(train_image, train_box, test_image, test_box, rng, generator) -> dict``,
            e.g. ``ltr.data.processing.ATOMProcessing``.
        seed: base seed.
        min_sequence_length: minimum number of frames of a usable video sequence (the reference uses 20).
        min_valid_frames: minimum number of valid frames of a usable video sequence (the reference: > 4).
        max_read_failures: unreadable frames tolerated per item before giving up with a RuntimeError.

    Raises:
        ValueError: bad arguments, or an empty data set.
    """

    def __init__(
        self,
        datasets: Sequence[TrainingDataset],
        weights: Sequence[float],
        samples_per_epoch: int,
        max_gap: int,
        processing: Processing,
        seed: int = 0,
        min_sequence_length: int = 20,
        min_valid_frames: int = 5,
        max_read_failures: int = 10,
    ):
        if not datasets:
            raise ValueError("ATOMSampler needs at least one data set")
        if len(weights) != len(datasets):
            raise ValueError(f"got {len(weights)} weights for {len(datasets)} data sets")
        weights = np.asarray(weights, dtype=np.float64)
        if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"weights must be non-negative with a positive sum, got {weights.tolist()}")
        for dataset in datasets:
            if len(dataset) == 0:
                raise ValueError(f"data set '{dataset.name}' has no sequence")
        if samples_per_epoch < 1 or max_gap < 1 or min_sequence_length < 1 or min_valid_frames < 1 or max_read_failures < 0:
            raise ValueError(
                "samples_per_epoch, max_gap, min_sequence_length and min_valid_frames must be >= 1 and max_read_failures "
                f">= 0, got {samples_per_epoch}, {max_gap}, {min_sequence_length}, {min_valid_frames}, {max_read_failures}"
            )
        self.datasets = list(datasets)
        self.probabilities = weights / weights.sum()
        self.samples_per_epoch = int(samples_per_epoch)
        self.max_gap = int(max_gap)
        self.processing = processing
        self.seed = int(seed)
        self.min_sequence_length = int(min_sequence_length)
        self.min_valid_frames = int(min_valid_frames)
        self.max_read_failures = int(max_read_failures)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Epoch used for integer indices (tuple indices ``(epoch, index)`` carry their own)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, item: int | tuple[int, int]) -> dict:
        epoch, index = epoch_and_index(item, self.epoch, self.samples_per_epoch)
        rng = np.random.default_rng([self.seed, epoch, index])
        generator = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
        failures = 0
        for _ in range(_MAX_ATTEMPTS):
            dataset = self.datasets[int(rng.choice(len(self.datasets), p=self.probabilities))]
            sequence = int(rng.integers(len(dataset)))
            info = dataset.sequence_info(sequence)
            if not self._usable(dataset, info):
                continue
            train_id, test_id = self.sample_frame_pair(info, rng) if dataset.is_video else (0, 0)
            try:
                train_image, test_image = dataset.frames(sequence, [train_id, test_id])
            except (OSError, ValueError) as error:
                failures += 1
                logger.warning("data set %s, sequence %s: %s; drawing another sample", dataset.name, info.name, error)
                if failures > self.max_read_failures:
                    raise RuntimeError(f"{failures} unreadable frames while drawing sample {index} of epoch {epoch}; last: {error}") from error
                continue
            return self.processing(train_image, info.boxes[train_id], test_image, info.boxes[test_id], rng, generator)
        names = ", ".join(d.name for d in self.datasets)
        raise RuntimeError(
            f"no usable sequence in {_MAX_ATTEMPTS} draws from data sets {names} (video sequences need >= "
            f"{self.min_sequence_length} frames and >= {self.min_valid_frames} valid frames; see min_sequence_length)"
        )

    def _usable(self, dataset: TrainingDataset, info: SequenceInfo) -> bool:
        if not dataset.is_video:
            return bool(info.valid[0])
        return len(info) >= self.min_sequence_length and int(info.valid.sum()) >= self.min_valid_frames

    def sample_frame_pair(self, info: SequenceInfo, rng: np.random.Generator) -> tuple[int, int]:
        """(train frame, test frame): a uniform valid base frame and a uniform valid frame in [base - gap, base + gap)."""
        valid_ids = np.flatnonzero(info.valid)
        base = int(valid_ids[rng.integers(len(valid_ids))])
        window = valid_ids[(valid_ids >= base - self.max_gap) & (valid_ids < base + self.max_gap)]
        return base, int(window[rng.integers(len(window))])
