"""COCO 2017 object instances as one-frame training "sequences" (read with ``json``, no pycocotools).

Layout (``<root>`` = ``--coco-root`` / COCO_ROOT)::

    <root>/annotations/instances_<split>.json
    <root>/<split>/<file_name>            (or <root>/images/<split>/<file_name>)

Every non-crowd instance with a positive-size box is one sequence; train and test frame are the same image
(the processing jitters them independently). COCO boxes are 0-based ``[x, y, w, h]`` in pixels.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Sequence as SequenceType

import numpy as np

from ltr.admin.paths import resolve_dataset_root
from ltr.dataset.base import SequenceInfo, TrainingDataset, check_index
from ltr.utils.image_io import read_image

logger = logging.getLogger(__name__)


class COCODataset(TrainingDataset):
    """COCO instances (image-only training set).

    Args:
        root: data-set folder; None = ``$COCO_ROOT``.
        split: image set, e.g. ``train2017`` (default) or ``val2017``.
        name: data-set name.

    Raises:
        FileNotFoundError: no root / no annotation file / no image folder (the message names them).
        ValueError: the annotation file is not COCO instances JSON.
    """

    is_video = False

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train2017", name: str = "coco"):
        self.name = name
        root = resolve_dataset_root("coco", root)
        annotation_file = root / "annotations" / f"instances_{split}.json"
        if not annotation_file.is_file():
            raise FileNotFoundError(f"COCO annotation file not found: {annotation_file}")
        candidates = [root / split, root / "images" / split]
        image_dir = next((c for c in candidates if c.is_dir()), None)
        if image_dir is None:
            raise FileNotFoundError(f"COCO image folder not found: {candidates[0]} or {candidates[1]}")
        self.image_dir = image_dir
        logger.info("reading %s", annotation_file)
        with open(annotation_file, encoding="utf-8") as handle:
            try:
                data = json.load(handle)
                files = {int(image["id"]): str(image["file_name"]) for image in data["images"]}
                annotations = data["annotations"]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{annotation_file}: not a COCO instances file ({error})") from None
        self.file_names = sorted(set(files.values()))
        file_index = {file_name: k for k, file_name in enumerate(self.file_names)}
        image_of, boxes, ids = [], [], []
        for annotation in annotations:
            box = annotation.get("bbox")
            if annotation.get("iscrowd", 0) or box is None or len(box) != 4 or not (box[2] > 0 and box[3] > 0):
                continue
            if int(annotation["image_id"]) not in files:
                raise ValueError(f"{annotation_file}: annotation {annotation.get('id')} refers to unknown image {annotation['image_id']}")
            image_of.append(file_index[files[int(annotation["image_id"])]])
            boxes.append(box)
            ids.append(int(annotation["id"]))
        self._image_of = np.asarray(image_of, dtype=np.int64)
        self._boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        self._ids = np.asarray(ids, dtype=np.int64)
        logger.info("%s: %d instances in %d images", name, len(self._ids), len(self.file_names))

    def __len__(self) -> int:
        return len(self._ids)

    def sequence_info(self, index: int) -> SequenceInfo:
        index = check_index(self, index)
        return SequenceInfo(f"{self.name}_{self._ids[index]}", self._boxes[index:index + 1].copy(), np.ones(1, bool))

    def image_path(self, index: int) -> Path:
        """Path of the image holding instance ``index``."""
        return self.image_dir / self.file_names[self._image_of[check_index(self, index)]]

    def frames(self, index: int, frame_ids: SequenceType[int]) -> list[np.ndarray]:
        if any(int(f) != 0 for f in frame_ids):
            raise IndexError(f"{self.name} instances have a single frame 0, got frames {list(frame_ids)}")
        image = read_image(self.image_path(index))
        return [image for _ in frame_ids]
