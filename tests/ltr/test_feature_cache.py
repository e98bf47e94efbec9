"""Feature cache: content equals the backbone run on the sampler's crops, resume, stale refusal, fresh proposals."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from ltr.data.feature_cache import (
    CachedPairDataset,
    build_feature_cache,
    cache_spec,
    open_feature_cache,
)
from ltr.data.processing import ATOMProcessing
from ltr.data.sampler import ATOMSampler
from ltr.dataset.base import SequenceInfo, TrainingDataset
from ltr.models.backbone.resnet import resnet18, state_dict_sha256

CROP = 64  # px: layer2 8 x 8, layer3 4 x 4


class NoiseVideos(TrainingDataset):
    """Sequences of seeded random 96 x 80 frames with a moving box."""

    name = "noise"
    is_video = True

    def __len__(self):
        return 3

    def sequence_info(self, index):
        boxes = np.array([[20 + 2 * k + index, 25 + k, 24, 18] for k in range(25)], np.float32)
        return SequenceInfo(f"noise{index}", boxes, np.ones(25, bool))

    def frames(self, index, frame_ids):
        return [np.random.default_rng([index, frame]).integers(0, 256, (80, 96, 3), dtype=np.uint8) for frame in frame_ids]


def make_sampler(seed: int = 0, pairs: int = 10) -> ATOMSampler:
    processing = ATOMProcessing(output_sz=CROP, search_area_factor=3.0, num_proposals=16, flip_prob=0.5)
    return ATOMSampler([NoiseVideos()], [1.0], samples_per_epoch=pairs, max_gap=5, processing=processing, seed=seed)


@pytest.fixture(scope="module")
def backbone() -> torch.nn.Module:
    torch.manual_seed(0)
    return resnet18(output_layers=("layer2", "layer3")).eval()


def test_cached_features_equal_backbone_on_the_samplers_crops(tmp_path, backbone) -> None:
    sampler = make_sampler()
    cache = build_feature_cache(tmp_path, "train", sampler, backbone, state_dict_sha256(backbone), 10, batch_size=4,
                                workers=0, progress=False)
    assert len(cache) == 10 and cache.directory.name.startswith("train-")
    for index in (0, 7):
        sample = sampler[(0, index)]
        with torch.no_grad():
            train = backbone(sample["train_images"][None])
            test = backbone(sample["test_images"][None])
        pair = cache.pair(index)
        for name in ("layer2", "layer3"):
            torch.testing.assert_close(pair[f"train_{name}"], train[name][0], rtol=2e-3, atol=2e-3)  # fp16 storage
            torch.testing.assert_close(pair[f"test_{name}"], test[name][0], rtol=2e-3, atol=2e-3)
        torch.testing.assert_close(pair["test_boxes"], sample["test_boxes"])
    assert np.load(cache.directory / "train_layer2.npy", mmap_mode="r").dtype == np.float16


class FailingBackbone(torch.nn.Module):
    """Runs ``inner`` for ``calls`` calls, then raises (an interrupted build)."""

    def __init__(self, inner, calls):
        super().__init__()
        self.inner, self.calls = inner, calls

    def forward(self, images, layers):
        if self.calls == 0:
            raise KeyboardInterrupt
        self.calls -= 1
        return self.inner(images, layers)


def test_interrupted_build_resumes_to_the_same_cache(tmp_path, backbone) -> None:
    digest = state_dict_sha256(backbone)
    with pytest.raises(KeyboardInterrupt):
        build_feature_cache(tmp_path / "a", "train", make_sampler(), FailingBackbone(backbone, 3), digest, 10,
                            batch_size=2, workers=0, progress=False)
    folder = next((tmp_path / "a").iterdir())
    assert json.loads((folder / "progress.json").read_text())["done"] == 4  # probe call + 2 chunks of 2
    with pytest.raises(ValueError, match="incomplete"):
        open_feature_cache(folder)
    resumed = build_feature_cache(tmp_path / "a", "train", make_sampler(), backbone, digest, 10, batch_size=2,
                                  workers=0, progress=False)
    fresh = build_feature_cache(tmp_path / "b", "train", make_sampler(), backbone, digest, 10, batch_size=4,
                                workers=0, progress=False)
    for key in ("train_layer2", "test_layer3", "test_boxes"):
        np.testing.assert_array_equal(resumed.arrays[key], fresh.arrays[key])


def test_stale_cache_is_refused_by_name(tmp_path, backbone) -> None:
    sampler = make_sampler()
    cache = build_feature_cache(tmp_path, "train", sampler, backbone, "weights-a", 10, workers=0, progress=False)
    other_weights = cache_spec(sampler, "weights-b", ("layer2", "layer3"), 10)
    with pytest.raises(ValueError, match="differs in: backbone_sha256"):
        open_feature_cache(cache.directory, other_weights)
    other_data = cache_spec(make_sampler(seed=1), "weights-a", ("layer2", "layer3"), 10)
    with pytest.raises(ValueError, match="differs in: sampling"):
        open_feature_cache(cache.directory, other_data)
    # other inputs get another folder name, so both caches coexist
    rebuilt = build_feature_cache(tmp_path, "train", sampler, backbone, "weights-b", 10, workers=0, progress=False)
    assert rebuilt.directory != cache.directory


def test_cached_pairs_get_fresh_reproducible_proposals(tmp_path, backbone) -> None:
    sampler = make_sampler()
    cache = build_feature_cache(tmp_path, "train", sampler, backbone, "w", 10, workers=0, progress=False)
    dataset = CachedPairDataset(cache, sampler.processing, samples_per_epoch=20, seed=3)
    first, again, next_epoch = dataset[(1, 12)], dataset[(1, 12)], dataset[(2, 12)]
    torch.testing.assert_close(first["test_proposals"], again["test_proposals"])
    assert not torch.equal(first["test_proposals"], next_epoch["test_proposals"])
    torch.testing.assert_close(first["test_layer3"], cache.pair(2)["test_layer3"])  # index 12 -> pair 12 % 10
    torch.testing.assert_close(next_epoch["test_layer3"], cache.pair(2)["test_layer3"])  # (20 + 12) % 10
    # an epoch shorter than the cache walks on through it; advance=False (validation) stays on the same pairs
    short = CachedPairDataset(cache, sampler.processing, samples_per_epoch=4, seed=3)
    fixed = CachedPairDataset(cache, sampler.processing, samples_per_epoch=4, seed=3, advance=False)
    for epoch, pair in ((1, 1), (2, 5), (3, 9), (4, 3)):
        torch.testing.assert_close(short[(epoch, 1)]["test_layer3"], cache.pair(pair)["test_layer3"])
        torch.testing.assert_close(fixed[(epoch, 1)]["test_layer3"], cache.pair(1)["test_layer3"])
    # row 0 is the ground truth; the density of the others is the two-component GMM pdf of their offsets
    gt = first["test_boxes"]
    torch.testing.assert_close(first["test_proposals"][0], gt)
    boxes = first["test_proposals"][1:].double()
    centre = (boxes[:, :2] + boxes[:, 2:] / 2 - (gt[:2] + gt[2:] / 2).double()) / gt[2:].double()
    log_size = torch.log(boxes[:, 2:] / gt[2:].double())
    pdf = 0.0
    for sigma_pos, sigma_size in sampler.processing.proposal_sigmas:
        pdf = pdf + 0.5 * torch.exp(
            -0.5 * ((centre / sigma_pos) ** 2).sum(1) - 0.5 * ((log_size / sigma_size) ** 2).sum(1)
        ) / ((2 * math.pi) ** 2 * sigma_pos ** 2 * sigma_size ** 2)
    torch.testing.assert_close(first["proposal_density"][1:].double(), pdf, rtol=1e-4, atol=0)
