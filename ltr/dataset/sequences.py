"""Training view over evaluation ``Sequence`` objects (any layout read by ``ltr.dataset.benchmarks``)."""
from __future__ import annotations

import logging
from typing import Sequence as SequenceType

import numpy as np
from tqdm import tqdm

from ltr.dataset.base import SequenceInfo, TrainingDataset, box_validity, check_index
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.image_io import read_image

logger = logging.getLogger(__name__)

_PROGRESS_THRESHOLD = 500


class SequenceListDataset(TrainingDataset):
    """A video training data set made of evaluation ``Sequence`` objects.

    Ground truth is read once at construction (boxes are converted to 0-based pixels using the
    sequence's ``box_origin``); sequences without any valid frame are dropped with a warning.

    Args:
        name: data-set name for logs and errors.
        sequences: the sequences; frame paths are decoded lazily by ``frames``.
        is_video: False for image-only sets (each sequence then has exactly one frame).

    Raises:
        ValueError: a sequence's ground truth does not have one row per frame.
    """

    def __init__(self, name: str, sequences: SequenceType[Sequence], is_video: bool = True):
        self.name = name
        self.is_video = is_video
        self._sequences: list[Sequence] = []
        self._infos: list[SequenceInfo] = []
        iterator = sequences
        if len(sequences) > _PROGRESS_THRESHOLD:
            iterator = tqdm(sequences, desc=f"reading {name} annotations", unit="seq")
        for sequence in iterator:
            info = _sequence_info(sequence)
            if not info.valid.any():
                logger.warning("data set %s: sequence %s has no valid frame; skipped", name, sequence.name)
                continue
            self._sequences.append(sequence)
            self._infos.append(info)

    def __len__(self) -> int:
        return len(self._sequences)

    def sequence_info(self, index: int) -> SequenceInfo:
        return self._infos[check_index(self, index)]

    def frames(self, index: int, frame_ids: SequenceType[int]) -> list[np.ndarray]:
        sequence = self._sequences[check_index(self, index)]
        decoded: dict[int, np.ndarray] = {}
        for frame_id in frame_ids:
            frame_id = int(frame_id)
            if not 0 <= frame_id < len(sequence.frames):
                raise IndexError(f"frame {frame_id} out of range for sequence {sequence.name} ({len(sequence.frames)} frames)")
            if frame_id not in decoded:
                decoded[frame_id] = read_image(sequence.frames[frame_id])
        return [decoded[int(frame_id)] for frame_id in frame_ids]


def _sequence_info(sequence: Sequence) -> SequenceInfo:
    ground_truth = np.asarray(sequence.ground_truth, dtype=np.float64).reshape(-1, 4)
    if len(ground_truth) != len(sequence.frames):
        raise ValueError(
            f"sequence {sequence.name} ({sequence.dataset}): {len(ground_truth)} ground-truth rows for "
            f"{len(sequence.frames)} frames"
        )
    boxes = ground_truth.copy()
    boxes[:, :2] -= sequence.box_origin
    valid = box_validity(boxes, sequence.target_visible)
    return SequenceInfo(name=sequence.name, boxes=boxes.astype(np.float32), valid=valid)
