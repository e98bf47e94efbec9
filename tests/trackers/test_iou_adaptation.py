"""The IoU-Net fitted to the first frame (``trackers.atom_ebm.iou_adaptation``)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ltr.data.proposals import PAPER_SIGMAS
from ltr.data.search_region import SearchRegion
from ltr.models.bbreg.atom_iou_net import AtomIoUNet
from trackers.atom_ebm.iou_adaptation import adapt_head, adaptation_crops
from trackers.atom_ebm.params import AtomEbmParams

FITTED = ("fc3_rt.linear.", "fc4_rt.linear.", "iou_predictor.")


def _mixture_density(offsets: np.ndarray) -> np.ndarray:
    """The proposal mixture's pdf of relative offsets [..., 4], written out from its definition."""
    pdf = 0.0
    for sigma_pos, sigma_size in PAPER_SIGMAS:
        std = np.array([sigma_pos, sigma_pos, sigma_size, sigma_size])
        pdf = pdf + np.prod(np.exp(-0.5 * (offsets / std) ** 2) / (std * math.sqrt(2 * math.pi)), axis=-1)
    return pdf / len(PAPER_SIGMAS)


def _nll(head: AtomIoUNet, modulation, feats, targets: torch.Tensor, seed: int) -> float:
    """The EBM NLL, log(mean_m exp(s_m) / q_m) - s_0, on fresh proposals drawn here (independent of the module)."""
    rng = np.random.default_rng(seed)
    boxes = targets.numpy().astype(np.float64)
    num = 256
    component = rng.integers(len(PAPER_SIGMAS), size=(boxes.shape[0], num))
    table = np.array(PAPER_SIGMAS)[component]  # [N, M, 2]
    offsets = rng.standard_normal((boxes.shape[0], num, 4)) * table[..., [0, 0, 1, 1]]
    size = boxes[:, None, 2:]
    centre = boxes[:, None, :2] + size / 2 + offsets[..., :2] * size
    new_size = size * np.exp(offsets[..., 2:])
    proposals = np.concatenate((centre - new_size / 2, new_size), axis=-1)
    candidates = torch.as_tensor(np.concatenate((boxes[:, None], proposals), axis=1), dtype=torch.float32)
    with torch.no_grad():
        scores = head.predict_iou([m.expand(boxes.shape[0], -1, -1, -1) for m in modulation], feats, candidates)
    scores = scores.double().numpy()
    log_ratio = scores[:, 1:] - np.log(_mixture_density(offsets))
    top = log_ratio.max(axis=1, keepdims=True)
    log_mean = top[:, 0] + np.log(np.exp(log_ratio - top).mean(axis=1))
    return float(np.mean(log_mean - scores[:, 0]))


def test_adaptation_fits_only_the_fully_connected_layers_of_a_copy_and_lowers_the_nll():
    torch.manual_seed(0)
    head = AtomIoUNet().eval()
    feats = [torch.randn(4, 256, 36, 36).relu(), torch.randn(4, 256, 18, 18).relu()]
    modulation = [torch.rand(1, 256, 1, 1), torch.rand(1, 256, 1, 1)]
    targets = torch.tensor([[100.0, 110.0, 60.0, 50.0], [80.0, 90.0, 90.0, 70.0],
                            [120.0, 100.0, 40.0, 70.0], [95.0, 95.0, 70.0, 70.0]])
    before = {name: value.clone() for name, value in head.state_dict().items()}
    adapted = adapt_head(head, modulation, feats, targets, steps=40, learning_rate=1e-3, num_proposals=32,
                         generator=torch.Generator().manual_seed(1))
    for name, value in head.state_dict().items():
        assert torch.equal(value, before[name]), f"the given head changed: {name}"
    changed = {name for name, value in adapted.state_dict().items() if not torch.equal(value, before[name])}
    assert changed and all(name.startswith(FITTED) for name in changed), changed
    assert not adapted.training and not any(p.requires_grad for p in adapted.parameters())
    nll_before = _nll(head, modulation, feats, targets, seed=5)
    nll_after = _nll(adapted, modulation, feats, targets, seed=5)
    assert nll_after < nll_before - 0.5, (nll_before, nll_after)


def test_adaptation_crops_show_the_target_where_their_boxes_say_mirrored_or_not():
    image = np.full((300, 400, 3), 30, dtype=np.uint8)
    box = np.array([150.0, 100.0, 60.0, 40.0])  # xywh, 0-based continuous
    image[100:140, 150:180] = (250, 40, 40)  # left half red, right half blue: shows a mirror
    image[100:140, 180:210] = (40, 40, 250)

    def region_of(centre_box: np.ndarray) -> SearchRegion:
        centre = centre_box[:2] + centre_box[2:] / 2
        return SearchRegion.around(tuple(centre), tuple(centre_box[2:]), 3.0, 96)

    crops, boxes = adaptation_crops(image, box, region_of, 6, np.random.default_rng(0))
    assert crops.shape == (6, 96, 96, 3) and crops.dtype == np.uint8 and boxes.shape == (6, 4)
    centres = set()
    for index, (crop, crop_box) in enumerate(zip(crops, boxes)):
        red, blue = crop[..., 0] > 140, crop[..., 2] > 140
        ys, xs = np.nonzero(red | blue)
        found = np.array([xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()], dtype=float)
        assert np.allclose(found, crop_box, atol=1.5), (index, found, crop_box)
        red_left = np.nonzero(red)[1].mean() < np.nonzero(blue)[1].mean()
        assert red_left == (index % 2 == 0), f"crop {index}: mirrored must be exactly the odd ones"
        centres.add(tuple(np.round(crop_box[:2] + crop_box[2:] / 2)))
    assert np.allclose(boxes[0][:2] + boxes[0][2:] / 2, 48.0), "the first crop is centred on the target"
    assert len(centres) == 6, "the other crops are cut around jittered boxes"


@pytest.mark.parametrize("overrides", [dict(iou_adaptation_steps=-1),
                                       dict(iou_adaptation_steps=5, iou_adaptation_learning_rate=0.0),
                                       dict(iou_adaptation_steps=5, iou_adaptation_crops=0),
                                       dict(iou_adaptation_steps=5, iou_adaptation_proposals=0)])
def test_bad_adaptation_settings_are_refused(overrides):
    with pytest.raises(ValueError, match="iou_adaptation_steps"):
        AtomEbmParams(**overrides)
