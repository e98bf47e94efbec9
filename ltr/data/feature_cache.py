"""On-disk cache of frozen-backbone features of training crop pairs, so IoU-Net training skips the backbone.

With the backbone frozen, the layer2/layer3 features of a processed (train crop, test crop) pair never change.
``build_feature_cache`` runs the backbone once over ``num_pairs`` pairs drawn by an ``ATOMSampler`` (jitter,
flips and colour jitter happen there, before the backbone) and stores, per pair:

* ``train_layer2`` / ``test_layer2``: fp16 [128, 36, 36] and ``train_layer3`` / ``test_layer3``: fp16 [256, 18, 18]
  (ResNet-18, 288 px crops), as memory-mapped ``.npy`` files of shape [num_pairs, C, H, W];
* ``train_boxes`` / ``test_boxes``: float32 [num_pairs, 4] ground-truth xywh boxes in crop pixels.

Proposals are not cached: :class:`CachedPairDataset` draws fresh GMM proposals for every (epoch, pair).

The folder is named ``<prefix>-<key>``, where the key hashes everything the content depends on: the backbone
weights, the crop geometry and augmentation, the data (every sequence's name and boxes) and the sampling (seed,
pair count, frame gap). A folder built for other inputs is refused with the fields that differ. Building is
resumable: pairs are written in chunks and ``progress.json`` (replaced atomically after each flushed chunk) says
how many are done, so an interrupted build continues where it stopped.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from ltr.data.loader import epoch_and_index
from ltr.data.processing import ATOMProcessing
from ltr.data.sampler import ATOMSampler
from ltr.utils.files import atomic_write_text

__all__ = ["FeatureCache", "CachedPairDataset", "cache_spec", "build_feature_cache", "open_feature_cache"]

META_FILE = "meta.json"
PROGRESS_FILE = "progress.json"
FEATURE_KEYS = ("train_layer2", "train_layer3", "test_layer2", "test_layer3")
BOX_KEYS = ("train_boxes", "test_boxes")
#: short hash length in folder names (16 hex digits: collisions are not a practical concern)
KEY_LENGTH = 16


def cache_spec(sampler: ATOMSampler, backbone_sha256: str, layers: tuple[str, ...], num_pairs: int) -> dict[str, Any]:
    """Everything the cached features depend on, as JSON-able values (its hash names the cache folder)."""
    processing = sampler.processing
    data = []
    for dataset, probability in zip(sampler.datasets, sampler.probabilities):
        digest = hashlib.sha256()
        for index in range(len(dataset)):
            info = dataset.sequence_info(index)
            digest.update(info.name.encode())
            digest.update(np.ascontiguousarray(info.boxes, dtype=np.float32).tobytes())
            digest.update(np.ascontiguousarray(info.valid).tobytes())
        data.append({"name": dataset.name, "sequences": len(dataset), "weight": round(float(probability), 6),
                     "annotations_sha256": digest.hexdigest()})
    return {
        "backbone_sha256": backbone_sha256,
        "layers": list(layers),
        "crop": {"output_sz": processing.output_sz, "search_area_factor": processing.search_area_factor,
                 "center_jitter_factor": processing.center_jitter_factor,
                 "scale_jitter_factor": processing.scale_jitter_factor},
        "augmentation": {"grayscale_prob": processing.grayscale_prob, "brightness_jitter": processing.brightness_jitter,
                         "flip_prob": processing.flip_prob},
        "data": data,
        "sampling": {"seed": sampler.seed, "num_pairs": int(num_pairs), "max_gap": sampler.max_gap,
                     "min_sequence_length": sampler.min_sequence_length, "min_valid_frames": sampler.min_valid_frames},
    }


def spec_key(spec: Mapping[str, Any]) -> str:
    """Short sha256 of the canonical JSON of ``spec``."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:KEY_LENGTH]


@dataclass
class FeatureCache:
    """A complete cache folder opened read-only: memory-mapped arrays keyed as in the module docstring."""

    directory: Path
    spec: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.spec["sampling"]["num_pairs"])

    def pair(self, index: int) -> dict[str, torch.Tensor]:
        """Pair ``index`` as float32 tensors: the four feature maps and the two crop-pixel boxes."""
        return {key: torch.from_numpy(np.array(self.arrays[key][index], dtype=np.float32)) for key in (*FEATURE_KEYS, *BOX_KEYS)}


def _shapes(backbone: torch.nn.Module, layers: tuple[str, ...], output_sz: int) -> dict[str, tuple[int, ...]]:
    with torch.no_grad():
        probe = backbone(torch.zeros(1, 3, output_sz, output_sz, device=next(backbone.parameters()).device), layers)
    shapes = {}
    for frame in ("train", "test"):
        for name in layers:
            shapes[f"{frame}_{name}"] = tuple(probe[name].shape[1:])
    return shapes


def _atomic_json(path: Path, value: Any) -> None:
    atomic_write_text(path, json.dumps(value, indent=1, sort_keys=True))


def _check_spec(directory: Path, spec: Mapping[str, Any]) -> None:
    stored = json.loads((directory / META_FILE).read_text())["spec"]
    if stored != spec:
        differing = sorted(key for key in set(stored) | set(spec) if stored.get(key) != spec.get(key))
        raise ValueError(f"feature cache {directory} was built for other inputs (differs in: {', '.join(differing)}); "
                         "delete it or use another cache folder")


def open_feature_cache(directory: str | os.PathLike, spec: Mapping[str, Any] | None = None) -> FeatureCache:
    """Open a complete cache folder; with ``spec``, refuse it unless it was built for exactly that spec.

    Raises:
        FileNotFoundError: no cache there. ValueError: incomplete, or built for other inputs (fields named).
    """
    directory = Path(directory)
    if not (directory / META_FILE).is_file():
        raise FileNotFoundError(f"no feature cache in {directory} (missing {META_FILE})")
    if spec is not None:
        _check_spec(directory, spec)
    meta = json.loads((directory / META_FILE).read_text())
    done = json.loads((directory / PROGRESS_FILE).read_text())["done"]
    total = int(meta["spec"]["sampling"]["num_pairs"])
    if done < total:
        raise ValueError(f"feature cache {directory} is incomplete ({done} of {total} pairs); build it again to resume")
    arrays = {key: np.load(directory / f"{key}.npy", mmap_mode="r") for key in (*FEATURE_KEYS, *BOX_KEYS)}
    return FeatureCache(directory, meta["spec"], arrays)


class _PairsFrom(Dataset):
    """Pairs ``start ..`` of epoch 0 of ``sampler`` (the cache content), for a DataLoader."""

    def __init__(self, sampler: ATOMSampler, start: int, stop: int):
        self.sampler, self.start, self.stop = sampler, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index: int) -> dict:
        sample = self.sampler[(0, self.start + index)]
        return {key: sample[key] for key in ("train_images", "test_images", "train_boxes", "test_boxes")}


def build_feature_cache(
    root: str | os.PathLike,
    prefix: str,
    sampler: ATOMSampler,
    backbone: torch.nn.Module,
    backbone_sha256: str,
    num_pairs: int,
    layers: tuple[str, ...] = ("layer2", "layer3"),
    batch_size: int = 8,
    workers: int = 1,
    progress: bool = True,
) -> FeatureCache:
    """Build (or finish, or just open) the cache of ``num_pairs`` pairs of ``sampler`` under ``root/prefix-KEY``.

    Args:
        root: folder holding caches.
        prefix: readable part of the folder name (e.g. the settings name and "train" / "val").
        sampler: draws and processes the pairs; pair k is ``sampler[(0, k)]`` (its processing mode is irrelevant).
        backbone: the frozen backbone, called as ``backbone(images, layers)`` -> {layer: features} (eval mode), on
            the CPU or a GPU (the crops are moved to its device).
        backbone_sha256: identifies the backbone weights (``ltr.models.backbone.resnet.state_dict_sha256``).
        num_pairs: pairs to cache.
        batch_size: pairs per backbone call and per flushed chunk.
        workers: DataLoader processes decoding and cropping while the backbone runs.
        progress: show a tqdm bar.
    """
    spec = cache_spec(sampler, backbone_sha256, tuple(layers), num_pairs)
    directory = Path(root) / f"{prefix}-{spec_key(spec)}"
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / META_FILE).is_file():
        _check_spec(directory, spec)
        done = json.loads((directory / PROGRESS_FILE).read_text())["done"]
    else:
        shapes = _shapes(backbone, tuple(layers), sampler.processing.output_sz)
        for key, shape in shapes.items():
            np.lib.format.open_memmap(directory / f"{key}.npy", mode="w+", dtype=np.float16, shape=(num_pairs, *shape))
        for key in BOX_KEYS:
            np.lib.format.open_memmap(directory / f"{key}.npy", mode="w+", dtype=np.float32, shape=(num_pairs, 4))
        _atomic_json(directory / PROGRESS_FILE, {"done": 0})
        _atomic_json(directory / META_FILE, {"spec": spec, "key": spec_key(spec), "shapes": {k: list(v) for k, v in shapes.items()}})
        done = 0
    if done < num_pairs:
        arrays = {key: np.load(directory / f"{key}.npy", mmap_mode="r+") for key in (*FEATURE_KEYS, *BOX_KEYS)}
        loader = DataLoader(_PairsFrom(sampler, done, num_pairs), batch_size=batch_size, num_workers=workers,
                            multiprocessing_context="spawn" if workers else None)
        bar = tqdm(total=num_pairs, initial=done, desc=f"feature cache {directory.name}", unit="pair", disable=not progress)
        backbone.eval()
        device = next(backbone.parameters()).device
        with torch.inference_mode():
            for batch in loader:
                count = len(batch["train_boxes"])
                images = torch.cat((batch["train_images"], batch["test_images"])).to(device)
                features = {name: value.to(torch.float16).cpu() for name, value in backbone(images, tuple(layers)).items()}
                for name in layers:
                    arrays[f"train_{name}"][done:done + count] = features[name][:count].numpy()
                    arrays[f"test_{name}"][done:done + count] = features[name][count:].numpy()
                for key in BOX_KEYS:
                    arrays[key][done:done + count] = batch[key].numpy()
                for array in arrays.values():
                    array.flush()
                done += count
                _atomic_json(directory / PROGRESS_FILE, {"done": done})
                bar.update(count)
        bar.close()
        del arrays
    return open_feature_cache(directory, spec)


class CachedPairDataset(Dataset):
    """Training samples from a feature cache with fresh proposals per (epoch, pair).

    Items are ``(epoch, index)`` as for ``ATOMSampler`` (see ``ltr.data.loader``): sample ``index`` of epoch ``e`` (from 1)
    is cache pair ``((e - 1) * samples_per_epoch + index) % len(cache)`` with proposals drawn from ``(seed, epoch,
    index)``: consecutive epochs walk through the whole cache (an epoch of ``len(cache)`` samples visits every pair
    once), and a resumed run draws the same pairs and proposals.

    Output keys: the four feature maps (float32), ``train_boxes``, ``test_boxes`` and the proposal keys of
    ``processing``'s mode (``test_proposals``, ``proposal_density``, ... as in ``ltr.data.processing``).
    """

    def __init__(self, cache: FeatureCache, processing: ATOMProcessing, samples_per_epoch: int | None = None,
                 seed: int = 0, advance: bool = True):
        """``advance=False`` keeps every epoch on the same pairs (``index % len(cache)``), e.g. for validation."""
        self.cache = cache
        self.advance = advance
        self.processing = processing
        self.samples_per_epoch = int(samples_per_epoch or len(cache))
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Epoch used for integer indices (tuple indices ``(epoch, index)`` carry their own)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def __getitem__(self, item: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, index = epoch_and_index(item, self.epoch, self.samples_per_epoch)
        start = max(epoch - 1, 0) * self.samples_per_epoch if self.advance else 0
        sample = self.cache.pair((start + index) % len(self.cache))
        seed = int(np.random.default_rng([self.seed, epoch, index]).integers(1 << 62))
        sample.update(self.processing.proposals_for(sample["test_boxes"], torch.Generator().manual_seed(seed)))
        return sample
