"""ATOM processing: crops vs numpy slices, box mapping vs rendered markers, proposals vs closed forms."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from ltr.data.processing import ATOMProcessing
from ltr.data.transforms import crop_region

MEAN = np.array([0.485, 0.456, 0.406])[:, None, None]
STD = np.array([0.229, 0.224, 0.225])[:, None, None]
NO_AUGMENT = dict(grayscale_prob=0.0, brightness_jitter=0.0, num_proposals=16)
NO_JITTER = dict(center_jitter_factor={"train": 0.0, "test": 0.0}, scale_jitter_factor={"train": 0.0, "test": 0.0})


def _pixels(normalised: torch.Tensor) -> np.ndarray:
    """[3, S, S] normalised tensor -> (S, S, 3) float pixel values 0..255."""
    return ((normalised.numpy() * STD + MEAN) * 255.0).transpose(1, 2, 0)


def _run(processing, train_image, train_box, test_image=None, test_box=None, seed=0):
    test_image = train_image if test_image is None else test_image
    test_box = train_box if test_box is None else test_box
    return processing(train_image, np.asarray(train_box, float), test_image, np.asarray(test_box, float),
                      np.random.default_rng(seed), torch.Generator().manual_seed(seed))


def test_crop_equals_numpy_slice_without_jitter():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(400, 500, 3), dtype=np.uint8)
    box = [200.7, 150.6, 64.0, 36.0]  # sqrt(64 * 36) * 6 = 288 -> scale 1
    processing = ATOMProcessing(search_area_factor=6.0, **NO_JITTER, **NO_AUGMENT)
    out = _run(processing, image, box)
    x0 = 89  # round(200.7 + 32 - 144) = round(88.7)
    y0 = 25  # round(150.6 + 18 - 144) = round(24.6)
    expected = image[y0:y0 + 288, x0:x0 + 288].astype(np.float64)
    np.testing.assert_allclose(_pixels(out["train_images"]), expected, atol=1e-3)
    np.testing.assert_allclose(_pixels(out["test_images"]), expected, atol=1e-3)
    np.testing.assert_allclose(out["train_boxes"].numpy(), [200.7 - x0, 150.6 - y0, 64.0, 36.0], atol=1e-4)


def test_crop_outside_image_replicates_border():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(100, 120, 3), dtype=np.uint8)
    box = [-20.0, 60.0, 64.0, 36.0]  # crop reaches far outside on all sides
    processing = ATOMProcessing(search_area_factor=6.0, **NO_JITTER, **NO_AUGMENT)
    out = _run(processing, image, box)
    x0, y0 = round(-20.0 + 32.0 - 144.0), round(60.0 + 18.0 - 144.0)
    padded = np.pad(image, ((400, 400), (400, 400), (0, 0)), mode="edge")
    expected = padded[y0 + 400:y0 + 688, x0 + 400:x0 + 688].astype(np.float64)
    np.testing.assert_allclose(_pixels(out["train_images"]), expected, atol=1e-3)


def test_crop_box_mapping_hand_computed():
    box = np.array([10.0, 20.0, 30.0, 40.0])
    region = crop_region(box, 5.0, 288)
    side = math.ceil(math.sqrt(1200.0) * 5.0)  # 174 image px
    x0, y0 = round(25.0 - 87.0), round(40.0 - 87.0)
    assert region.side == 288 and region.image_side == pytest.approx(side)
    assert region.center == pytest.approx((x0 + side / 2, y0 + side / 2))
    scale = 288.0 / side
    expected = [(10.0 - x0) * scale, (20.0 - y0) * scale, 30.0 * scale, 40.0 * scale]
    np.testing.assert_allclose(region.to_crop(box), expected)
    np.testing.assert_allclose(region.to_image(region.to_crop(box)), box)


@pytest.mark.parametrize("seed", range(8))
def test_jittered_test_box_matches_marker_in_crop(seed):
    """The crop-frame GT box outlines the marker rectangle drawn at the image GT box (independent of the mapping code)."""
    image = np.zeros((360, 420, 3), np.uint8)
    box = [170.0, 140.0, 48.0, 30.0]
    image[140:170, 170:218] = 255
    processing = ATOMProcessing(**NO_AUGMENT)
    out = _run(processing, image, box, seed=seed)
    crop = _pixels(out["test_images"])[:, :, 0]
    x, y, w, h = out["test_boxes"].numpy()
    ys, xs = np.nonzero(crop > 127.5)
    expected = np.clip([x, y, x + w, y + h], 0, 288)  # the jittered crop may cut the target
    np.testing.assert_allclose([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], expected, atol=1.0)
    # the unjittered train crop is centred on the box
    tx, ty, tw, th = out["train_boxes"].numpy()
    assert abs(tx + tw / 2 - 144) < 288 / 174 and abs(ty + th / 2 - 144) < 288 / 174


def _gmm_pdf(offsets: np.ndarray, sigmas) -> np.ndarray:
    pdf = 0
    for sigma_pos, sigma_size in sigmas:
        std = np.array([sigma_pos, sigma_pos, sigma_size, sigma_size])
        pdf = pdf + np.prod(np.exp(-0.5 * (offsets / std) ** 2) / (np.sqrt(2 * np.pi) * std), axis=-1)
    return pdf / len(sigmas)


def _offsets(boxes: np.ndarray, gt: np.ndarray) -> np.ndarray:
    centre = boxes[:, :2] + boxes[:, 2:] / 2
    gt_centre = gt[:2] + gt[2:] / 2
    return np.concatenate([(centre - gt_centre) / gt[2:], np.log(boxes[:, 2:] / gt[2:])], axis=1)


def test_ebm_proposals_and_densities():
    image = np.random.default_rng(2).integers(0, 256, size=(200, 240, 3), dtype=np.uint8)
    processing = ATOMProcessing(mode="ebm", num_proposals=64)
    out = _run(processing, image, [80.0, 70.0, 40.0, 50.0], seed=3)
    proposals, gt = out["test_proposals"].double().numpy(), out["test_boxes"].double().numpy()
    assert proposals.shape == (65, 4)
    np.testing.assert_array_equal(proposals[0], gt)
    density = out["proposal_density"].double().numpy()
    assert density[0] == -1
    np.testing.assert_allclose(density[1:], _gmm_pdf(_offsets(proposals[1:], gt), [(0.05, 0.05), (0.5, 0.5)]), rtol=1e-3)
    np.testing.assert_array_equal(out["gt_density"].numpy(), np.eye(65)[0])


def test_kl_gt_density_is_gaussian_label_pdf():
    image = np.random.default_rng(4).integers(0, 256, size=(200, 240, 3), dtype=np.uint8)
    processing = ATOMProcessing(mode="kl", gt_sigma=(0.05, 0.05), num_proposals=32)
    out = _run(processing, image, [80.0, 70.0, 40.0, 50.0], seed=5)
    proposals, gt = out["test_proposals"].double().numpy(), out["test_boxes"].double().numpy()
    expected = _gmm_pdf(_offsets(proposals, gt), [(0.05, 0.05)])
    np.testing.assert_allclose(out["gt_density"].double().numpy(), expected, rtol=1e-3, atol=1e-6)
    assert out["gt_density"][0] == pytest.approx((1 / (math.sqrt(2 * math.pi) * 0.05)) ** 4, rel=1e-5)


def test_iou_mode_labels():
    image = np.random.default_rng(6).integers(0, 256, size=(200, 240, 3), dtype=np.uint8)
    processing = ATOMProcessing(mode="iou", num_proposals=50)
    out = _run(processing, image, [80.0, 70.0, 40.0, 50.0], seed=7)
    assert set(out) == {"train_images", "train_boxes", "test_images", "test_boxes", "test_proposals", "proposal_iou"}
    boxes, gt = out["test_proposals"].double().numpy(), out["test_boxes"].double().numpy()
    assert boxes.shape == (50, 4)
    width = np.clip(np.minimum(boxes[:, 0] + boxes[:, 2], gt[0] + gt[2]) - np.maximum(boxes[:, 0], gt[0]), 0, None)
    height = np.clip(np.minimum(boxes[:, 1] + boxes[:, 3], gt[1] + gt[3]) - np.maximum(boxes[:, 1], gt[1]), 0, None)
    intersection = width * height
    iou = intersection / (boxes[:, 2] * boxes[:, 3] + gt[2] * gt[3] - intersection)
    np.testing.assert_allclose(out["proposal_iou"].double().numpy(), iou, atol=1e-5)


def test_grayscale_brightness_and_flip():
    rng = np.random.default_rng(8)
    image = rng.integers(0, 200, size=(300, 300, 3), dtype=np.uint8)
    box = [120.0, 110.0, 64.0, 36.0]
    gray = _run(ATOMProcessing(search_area_factor=6.0, grayscale_prob=1.0, brightness_jitter=0.0, **NO_JITTER), image, box)
    pixels = _pixels(gray["train_images"])
    np.testing.assert_allclose(pixels[:, :, 0], pixels[:, :, 1], atol=1e-3)
    luminance = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    x0, y0 = round(152.0 - 144.0), round(128.0 - 144.0)
    region = np.pad(luminance, 200, mode="edge")[y0 + 200:y0 + 488, x0 + 200:x0 + 488]
    assert np.abs(pixels[:, :, 0] - region).max() <= 1.0  # OpenCV rounds the luminance to uint8

    bright = _run(ATOMProcessing(search_area_factor=6.0, grayscale_prob=0.0, brightness_jitter=0.2, **NO_JITTER), image, box, seed=9)
    plain = _run(ATOMProcessing(search_area_factor=6.0, grayscale_prob=0.0, brightness_jitter=0.0, **NO_JITTER), image, box, seed=9)
    a, b = _pixels(bright["test_images"]), _pixels(plain["test_images"])
    ratio = a[b > 20] / b[b > 20]
    assert np.ptp(ratio) < 1e-3 and 0.8 <= ratio.mean() <= 1.2

    kwargs = dict(grayscale_prob=0.0, brightness_jitter=0.0)
    flipped = _run(ATOMProcessing(flip_prob=1.0, **kwargs), image, box, seed=10)
    unflipped = _run(ATOMProcessing(flip_prob=0.0, **kwargs), image, box, seed=10)
    np.testing.assert_allclose(flipped["test_images"].numpy(), unflipped["test_images"].numpy()[:, :, ::-1], atol=1e-6)
    x, y, w, h = unflipped["test_boxes"].numpy()
    np.testing.assert_allclose(flipped["test_boxes"].numpy(), [288 - x - w, y, w, h], atol=1e-4)


def test_clamping_at_full_brightness():
    image = np.full((100, 100, 3), 250, np.uint8)
    out = _run(ATOMProcessing(brightness_jitter=1.0, grayscale_prob=0.0, num_proposals=4), image, [40.0, 40.0, 10.0, 10.0], seed=11)
    assert _pixels(out["train_images"]).max() <= 255.0 + 1e-3


def test_bad_input_is_a_clear_error():
    image = np.zeros((50, 50, 3), np.uint8)
    processing = ATOMProcessing(num_proposals=4)
    with pytest.raises(ValueError, match="test box"):
        _run(processing, image, [1.0, 1.0, 5.0, 5.0], test_box=[1.0, 1.0, 0.0, 5.0])
    with pytest.raises(ValueError, match="train image"):
        _run(processing, np.zeros((50, 50), np.uint8), [1.0, 1.0, 5.0, 5.0], test_image=image)
    with pytest.raises(ValueError, match="mode"):
        ATOMProcessing(mode="mse")


def _bilinear_reference(image: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    """Crop pixel j samples image point x0 + (j + 0.5) * side / size (pixel centres at i + 0.5), edges clamped."""
    coords = (np.arange(size) + 0.5) * side / size - 0.5
    xs, ys = coords + x0, coords + y0
    image = image.astype(np.float64)

    def sample(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = np.clip(y, 0, image.shape[0] - 1)
        x = np.clip(x, 0, image.shape[1] - 1)
        return image[y][:, x]

    fx, fy = np.floor(xs).astype(int), np.floor(ys).astype(int)
    wx, wy = (xs - fx)[None, :, None], (ys - fy)[:, None, None]
    top = sample(fy, fx) * (1 - wx) + sample(fy, fx + 1) * wx
    bottom = sample(fy + 1, fx) * (1 - wx) + sample(fy + 1, fx + 1) * wx
    return top * (1 - wy) + bottom * wy


@pytest.mark.parametrize("box", [[60.0, 50.0, 20.0, 30.0], [-15.0, 70.0, 30.0, 24.0]])
def test_crop_matches_bilinear_reference(box):
    """Scaled crops (inside the image and across its border) sample the documented pixel map."""
    image = np.random.default_rng(12).integers(0, 256, size=(120, 150, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (0, 0), 2.0)  # smooth, so fixed-point rounding differences stay small
    region = crop_region(np.asarray(box), 3.0, 64)
    x0, y0 = (round(c - region.image_side / 2) for c in region.center)
    expected = _bilinear_reference(image, x0, y0, round(region.image_side), 64)
    assert np.abs(region.crop(image, antialias=False).astype(np.float64) - expected).max() <= 1.5
