"""``SyntheticDataset``: plans sequences lazily and renders their frames on request."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence as SequenceType

import cv2
import numpy as np
from tqdm import tqdm

from ltr.dataset.base import SequenceInfo, TrainingDataset, check_index
from ltr.dataset.synthetic.geometry import compose, invert, pixel_affine, polygon_mask
from ltr.dataset.synthetic.params import SCENE_CACHE_SIZE, SyntheticParams
from ltr.dataset.synthetic.plan import (
    Dressing,
    SceneObject,
    Track,
    plan_dressing,
    plan_track,
)
from ltr.dataset.synthetic.textures import SourcePool, list_image_files
from ltr.utils.box_io import save_boxes
from ltr.utils.files import atomic_write


class _LRUCache:
    """A small least-recently-used cache of per-sequence plans."""

    def __init__(self, size: int):
        self.size = size
        self._items: dict[int, object] = {}

    def get(self, key: int, create):
        item = self._items.pop(key, None)  # re-inserted below as most recently used
        if item is None:
            item = create()
            if len(self._items) >= self.size:
                self._items.pop(next(iter(self._items)))
        self._items[key] = item
        return item


class SyntheticDataset(TrainingDataset):
    """Procedurally generated video training data with exact ground truth.

    Args:
        params: sequence statistics (``SyntheticParams``).
        seed: data-set seed; sequence ``i`` depends only on ``(seed, i)`` and the texture sources.
        image_dirs: optional folders whose images are added to the texture/background pool.
        name: data-set name.

    Raises:
        FileNotFoundError: an image folder is missing or empty.
    """

    is_video = True

    def __init__(
        self,
        params: SyntheticParams = SyntheticParams(),
        seed: int = 0,
        image_dirs: SequenceType[str | os.PathLike] = (),
        name: str = "synthetic",
    ):
        self.params = params
        self.seed = int(seed)
        self.name = name
        self.user_images = list_image_files(image_dirs) if image_dirs else ()
        self._pool: SourcePool | None = None
        self._tracks = _LRUCache(SCENE_CACHE_SIZE)
        self._dressings = _LRUCache(SCENE_CACHE_SIZE)

    def __len__(self) -> int:
        return self.params.num_sequences

    def sequence_name(self, index: int) -> str:
        return f"{self.name}_{check_index(self, index):06d}"

    def sequence_info(self, index: int) -> SequenceInfo:
        track = self._track(index)
        return SequenceInfo(self.sequence_name(index), track.boxes.astype(np.float32), track.valid.copy())

    def image_size(self, index: int) -> tuple[int, int]:
        """(height, width) of the frames of sequence ``index``."""
        track = self._track(index)
        return track.height, track.width

    def frames(self, index: int, frame_ids: SequenceType[int]) -> list[np.ndarray]:
        rendered: dict[int, np.ndarray] = {}
        for frame_id in frame_ids:
            if int(frame_id) not in rendered:
                rendered[int(frame_id)] = self.render_frame(index, int(frame_id))
        return [rendered[int(f)] for f in frame_ids]

    def render_frame(self, index: int, frame_id: int, draw_target: bool = True) -> np.ndarray:
        """RGB uint8 (H, W, 3) frame ``frame_id`` of sequence ``index`` (``draw_target=False``: without the target)."""
        track, dressing = self._track(index), self._dressing(index)
        t = self._check_frame(track, index, frame_id)
        x0, y0, x1, y1 = dressing.views[t]
        view = self._sources().image(dressing.background.source)[y0:y1, x0:x1]
        if dressing.colour_frame is not None:
            view = cv2.transform(view, dressing.colour_frame)
        frame = cv2.resize(view, (track.width, track.height), interpolation=cv2.INTER_LINEAR)
        objects = list(dressing.distractors) + ([track.target] if draw_target else []) + list(track.occluders)
        for obj in objects:
            self._draw(frame, obj, t)
        if dressing.blur_sigma > 0:
            frame = cv2.GaussianBlur(frame, (0, 0), dressing.blur_sigma)
        return frame

    def target_mask(self, index: int, frame_id: int) -> np.ndarray:
        """bool (H, W): pixels whose centre-weighted coverage by the target polygon is >= 1/2 (occluders ignored)."""
        track = self._track(index)
        t = self._check_frame(track, index, frame_id)
        return polygon_mask(track.target.vertices(t), (0, 0), (track.height, track.width)) >= 128

    def write_folder(self, root: str | os.PathLike, indices: SequenceType[int] | None = None, jpeg_quality: int = 95) -> list[Path]:
        """Write sequences in the OTB-style folder layout read by ``load_dataset("folder", root)``.

        Writes ``<root>/<name>/img/0001.jpg ...`` and ``<root>/<name>/groundtruth.txt`` (x,y,w,h, 0-based px,
        2 decimals; ``nan`` rows for invalid frames). Each file is written atomically.

        Returns:
            The sequence folders written.
        """
        indices = range(len(self)) if indices is None else indices
        folders = []
        for index in tqdm(indices, desc=f"writing {self.name}", unit="seq", disable=len(indices) < 5):
            info = self.sequence_info(index)
            folder = Path(root) / info.name
            for frame_id in range(len(info)):
                image = cv2.cvtColor(self.render_frame(index, frame_id), cv2.COLOR_RGB2BGR)
                ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
                if not ok:
                    raise ValueError(f"cannot encode frame {frame_id} of {info.name} as JPEG")
                atomic_write(folder / "img" / f"{frame_id + 1:04d}.jpg", lambda tmp, data=encoded: data.tofile(tmp))
            boxes = info.boxes.astype(np.float64)
            boxes[~info.valid] = np.nan
            save_boxes(folder / "groundtruth.txt", boxes)
            folders.append(folder)
        return folders

    # ------------------------------------------------------------------------------------------------------------

    def _check_frame(self, track: Track, index: int, frame_id: int) -> int:
        frame_id = int(frame_id)
        if not 0 <= frame_id < len(track.boxes):
            raise IndexError(f"frame {frame_id} out of range for {self.sequence_name(index)} ({len(track.boxes)} frames)")
        return frame_id

    def _track(self, index: int) -> Track:
        index = check_index(self, index)
        return self._tracks.get(index, lambda: plan_track(self.params, self.seed, index, self._sources()))

    def _dressing(self, index: int) -> Dressing:
        track = self._track(index)
        return self._dressings.get(index, lambda: plan_dressing(self.params, self.seed, index, self._sources(), track))

    def _sources(self) -> SourcePool:
        if self._pool is None:
            self._pool = SourcePool(self.user_images)
        return self._pool

    def _draw(self, frame: np.ndarray, obj: SceneObject, t: int) -> None:
        height, width = frame.shape[:2]
        vertices = obj.vertices(t)
        x0, y0 = np.floor(vertices.min(axis=0)).astype(int)
        x1, y1 = np.ceil(vertices.max(axis=0)).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 <= x0 or y1 <= y0:
            return
        mask = polygon_mask(vertices, (x0, y0), (y1 - y0, x1 - x0))
        source_to_image = compose(obj.canonical_to_image[t], invert(obj.texture.canonical_to_source))
        source_to_image[:, 2] -= (x0, y0)
        texture = cv2.warpAffine(
            self._sources().image(obj.texture.source), pixel_affine(source_to_image), (x1 - x0, y1 - y0),
            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101,
        )
        texture = cv2.transform(texture, obj.texture.colour * np.float32(obj.gain[t]))
        alpha = mask.astype(np.float32)[:, :, None] * np.float32(1 / 255)
        region = frame[y0:y1, x0:x1]
        region[:] = (region + alpha * (texture.astype(np.float32) - region) + 0.5).astype(np.uint8)
