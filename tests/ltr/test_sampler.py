"""ATOMSampler and build_loader: determinism, frame-pair rules, retries, worker-count independence."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from ltr.data.loader import EpochSampler, build_loader, set_epoch
from ltr.data.processing import ATOMProcessing
from ltr.data.sampler import ATOMSampler
from ltr.dataset.base import SequenceInfo, TrainingDataset
from ltr.dataset.synthetic import SyntheticDataset, SyntheticParams


class FrameIdDataset(TrainingDataset):
    """Sequences whose frame k is an image filled with the value k (so the chosen frames can be read back)."""

    def __init__(self, name, valid_flags, is_video=True, unreadable=()):
        self.name = name
        self.is_video = is_video
        self.valid_flags = [np.asarray(v, bool) for v in valid_flags]
        self.unreadable = set(unreadable)

    def __len__(self):
        return len(self.valid_flags)

    def sequence_info(self, index):
        valid = self.valid_flags[index]
        boxes = np.tile(np.array([2.0, 2.0, 4.0, 4.0], np.float32), (len(valid), 1))
        boxes[~valid] = np.nan
        return SequenceInfo(f"{self.name}{index}", boxes, valid)

    def frames(self, index, frame_ids):
        if index in self.unreadable:
            raise FileNotFoundError(f"image not found: /data/{self.name}{index}/{frame_ids[0]:04d}.jpg")
        return [np.full((8, 8, 3), frame_id, np.uint8) for frame_id in frame_ids]


def record(train_image, train_box, test_image, test_box, rng, generator):
    return {
        "train": int(train_image[0, 0, 0]), "test": int(test_image[0, 0, 0]),
        "draw": float(rng.random()), "torch": float(torch.rand(1, generator=generator)),
    }


def test_items_depend_only_on_seed_epoch_index():
    dataset = FrameIdDataset("a", [np.ones(60)] * 5)
    first = ATOMSampler([dataset], [1], 50, 10, record, seed=7)
    second = ATOMSampler([dataset], [1], 50, 10, record, seed=7)
    items = [first[i] for i in (3, 1, 3)]
    assert items[0] == items[2] == second[3]
    assert first[(0, 3)] == items[0]
    second.set_epoch(1)
    assert second[3] == first[(1, 3)] != items[0]
    assert ATOMSampler([dataset], [1], 50, 10, record, seed=8)[3] != items[0]


def test_frame_pairs_respect_max_gap_and_validity():
    valid = np.ones(100, bool)
    valid[40:55] = False
    valid[::7] = False
    dataset = FrameIdDataset("a", [valid])
    sampler = ATOMSampler([dataset], [1], 400, 5, record, seed=0)
    gaps = []
    for i in range(len(sampler)):
        item = sampler[i]
        assert valid[item["train"]] and valid[item["test"]]
        gaps.append(item["test"] - item["train"])
    assert min(gaps) == -5 and max(gaps) == 4  # half-open window [base - gap, base + gap)
    assert 0 in gaps


def test_short_sequences_and_image_sets():
    video = FrameIdDataset("video", [np.ones(10), np.r_[np.ones(4), np.zeros(30)], np.ones(25)])
    images = FrameIdDataset("coco", [np.ones(1)] * 3, is_video=False)
    sampler = ATOMSampler([video, images], [1, 1], 200, 50, record, seed=1, min_sequence_length=20)
    for i in range(len(sampler)):
        item = sampler[i]
        assert item["train"] < 25 and item["test"] < 25
    only_images = ATOMSampler([video, images], [0, 1], 20, 50, record, seed=1)
    assert all(only_images[i]["train"] == only_images[i]["test"] == 0 for i in range(20))
    unusable = ATOMSampler([video], [1], 5, 50, record, min_sequence_length=30)
    with pytest.raises(RuntimeError, match="min_sequence_length"):
        unusable[0]


def test_unreadable_frames_are_logged_and_redrawn(caplog):
    dataset = FrameIdDataset("a", [np.ones(30)] * 2, unreadable={0})
    sampler = ATOMSampler([dataset], [1], 40, 10, record, seed=2)
    with caplog.at_level(logging.WARNING, logger="ltr.data.sampler"):
        items = [sampler[i] for i in range(40)]
    assert len(items) == 40
    assert "image not found: /data/a0/" in caplog.text
    broken = ATOMSampler([FrameIdDataset("b", [np.ones(30)], unreadable={0})], [1], 1, 10, record, max_read_failures=2)
    with pytest.raises(RuntimeError, match="image not found: /data/b0/"):
        broken[0]


def test_bad_arguments():
    dataset = FrameIdDataset("a", [np.ones(30)])
    with pytest.raises(ValueError, match="weights"):
        ATOMSampler([dataset], [1, 1], 10, 5, record)
    with pytest.raises(ValueError, match="no sequence"):
        ATOMSampler([FrameIdDataset("empty", [])], [1], 10, 5, record)


def test_epoch_sampler_shards_and_shuffles():
    shards = [list(EpochSampler(10, seed=3, shuffle=True, num_replicas=3, rank=r)) for r in range(3)]
    indices = [index for shard in shards for _, index in shard]
    assert len(indices) == 12 and set(indices) == set(range(10))  # padded by wrap-around
    sampler = EpochSampler(10, seed=3, shuffle=True)
    epoch0 = list(sampler)
    sampler.set_epoch(1)
    epoch1 = list(sampler)
    assert {e for e, _ in epoch1} == {1} and [i for _, i in epoch0] != [i for _, i in epoch1]
    assert sorted(i for _, i in epoch1) == list(range(10))


@pytest.mark.timeout(120)
def test_loader_batches_identical_for_0_and_2_workers():
    params = SyntheticParams(num_sequences=6, sequence_length=24, short_side=(120, 160), max_long_side=200,
                             target_size=(0.1, 0.3))
    synthetic = SyntheticDataset(params, seed=4)
    processing = ATOMProcessing(output_sz=48, num_proposals=8)
    batches = {}
    for workers in (0, 2):
        sampler = ATOMSampler([synthetic], [1], 8, 10, processing, seed=5, min_sequence_length=10)
        loader = build_loader(sampler, batch_size=4, workers=workers, seed=5, shuffle=True)
        batches[workers] = []
        for epoch in (0, 1):
            set_epoch(loader, epoch)
            batches[workers].extend(list(loader))
    assert len(batches[0]) == len(batches[2]) == 4
    for a, b in zip(batches[0], batches[2]):
        assert a["test_images"].shape == (4, 3, 48, 48) and a["test_proposals"].shape == (4, 9, 4)
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    assert not torch.equal(batches[0][0]["test_images"], batches[0][2]["test_images"])  # epochs differ
