"""The training-data-set interface read by the sampler (``ltr.data.sampler.ATOMSampler``).

A training data set is a list of sequences. Each sequence has per-frame boxes (x, y, w, h) in 0-based
pixels and a validity flag per frame; ``frames`` decodes the requested frames as RGB uint8 arrays.
Image-only data sets (COCO) are one-frame sequences with ``is_video = False``.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Sequence as SequenceType

import numpy as np


@dataclass(frozen=True)
class SequenceInfo:
    """Annotation of one training sequence.

    Attributes:
        name: sequence name, unique within its data set.
        boxes: float32 [N, 4] (x, y, w, h), 0-based pixels; rows of invalid frames may hold NaN.
        valid: bool [N]; True where the box is finite, has w > 0 and h > 0 and the target is visible
            (where visibility is known).
    """

    name: str
    boxes: np.ndarray
    valid: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)


def box_validity(boxes: np.ndarray, visible: np.ndarray | None = None) -> np.ndarray:
    """Validity of [N, 4] xywh boxes: finite, w > 0, h > 0 and ``visible`` (bool [N]) where given.

    Raises:
        ValueError: ``visible`` has a different length than ``boxes``.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    valid = np.isfinite(boxes).all(axis=1) & (np.nan_to_num(boxes[:, 2]) > 0) & (np.nan_to_num(boxes[:, 3]) > 0)
    if visible is not None:
        visible = np.asarray(visible, dtype=bool).reshape(-1)
        if len(visible) != len(boxes):
            raise ValueError(f"visibility flags have {len(visible)} entries but there are {len(boxes)} boxes")
        valid &= visible
    return valid


class TrainingDataset(abc.ABC):
    """A training data set: ``len(ds)`` sequences, their annotations and their frames.

    Attributes:
        name: data-set name used in logs and errors.
        is_video: False for image-only sets (one frame per sequence; train and test frame coincide).
    """

    name: str
    is_video: bool

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of sequences."""

    @abc.abstractmethod
    def sequence_info(self, index: int) -> SequenceInfo:
        """Boxes and validity of sequence ``index`` (cheap: no image is decoded)."""

    @abc.abstractmethod
    def frames(self, index: int, frame_ids: SequenceType[int]) -> list[np.ndarray]:
        """RGB uint8 (H, W, 3) images of the given frames of sequence ``index``.

        Raises:
            FileNotFoundError / ValueError: an image is missing or cannot be decoded (the message names the file).
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, sequences={len(self)})"


def check_index(dataset: TrainingDataset, index: int) -> int:
    """Return ``index`` as int if it is a valid sequence index of ``dataset``, else raise IndexError."""
    index = int(index)
    if not 0 <= index < len(dataset):
        raise IndexError(f"sequence index {index} out of range for data set '{dataset.name}' with {len(dataset)} sequences")
    return index
