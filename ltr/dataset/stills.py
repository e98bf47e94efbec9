"""Still images with boxes listed in a table, as one-frame training "sequences" (one per box).

Layout (e.g. a COCO subset under ``$ATOM_EBM_LOCAL_DATA/train/stills/coco128``)::

    <root>/images/<image>
    <root>/boxes.tsv        header ``image width height class_id class_name x y w h``, tab separated;
                            boxes in 0-based pixels

Train and test frame of a sample are the same image; the processing jitters the two crops independently.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Sequence as SequenceType

import numpy as np

from ltr.dataset.base import SequenceInfo, TrainingDataset, box_validity, check_index
from ltr.utils.image_io import read_image

BOX_TABLE = "boxes.tsv"
IMAGE_FOLDER = "images"
_COLUMNS = ("image", "x", "y", "w", "h")


class StillImageDataset(TrainingDataset):
    """Every positive-size box of ``<root>/boxes.tsv`` is one image-only training sample.

    Raises:
        FileNotFoundError: the table or the image folder is missing (the message names it).
        ValueError: the table lacks a column or holds a non-numeric box (the message names file and line).
    """

    is_video = False

    def __init__(self, root: str | os.PathLike, name: str = "stills"):
        self.name = name
        root = Path(root)
        table, self.image_dir = root / BOX_TABLE, root / IMAGE_FOLDER
        for path in (table, self.image_dir):
            if not path.exists():
                raise FileNotFoundError(f"{name}: {path} not found (expected {BOX_TABLE} and {IMAGE_FOLDER}/ under {root})")
        files, boxes = [], []
        with open(table, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            missing = [column for column in _COLUMNS if column not in (reader.fieldnames or ())]
            if missing:
                raise ValueError(f"{table}: missing columns {missing}")
            for line, row in enumerate(reader, start=2):
                try:
                    box = [float(row[key]) for key in ("x", "y", "w", "h")]
                except (TypeError, ValueError):
                    raise ValueError(f"{table}, line {line}: box is not four numbers: {row}") from None
                files.append(row["image"])
                boxes.append(box)
        boxes_array = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        keep = box_validity(boxes_array)
        self._files = [file for file, ok in zip(files, keep) if ok]
        self._boxes = boxes_array[keep]

    def __len__(self) -> int:
        return len(self._files)

    def sequence_info(self, index: int) -> SequenceInfo:
        index = check_index(self, index)
        return SequenceInfo(f"{self.name}_{index}", self._boxes[index:index + 1].copy(), np.ones(1, bool))

    def frames(self, index: int, frame_ids: SequenceType[int]) -> list[np.ndarray]:
        if any(int(frame) != 0 for frame in frame_ids):
            raise IndexError(f"{self.name} samples have a single frame 0, got frames {list(frame_ids)}")
        image = read_image(self.image_dir / self._files[check_index(self, index)])
        return [image for _ in frame_ids]
