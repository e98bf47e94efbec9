"""SearchRegion: crops sample the documented affine map; boxes map both ways (hand-computed values)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ltr.data.search_region import SearchRegion


def _ramp(height=240, width=320):
    """Float image whose channel 0 is the x pixel-centre coordinate and channel 1 the y one."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    return np.stack([xs, ys, np.zeros_like(xs)], axis=-1)


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.7, 2.5])
def test_crop_samples_the_affine_map(scale):
    center = (150.3, 101.7)
    crop = SearchRegion(center, scale, 64).crop(_ramp())
    u = np.arange(64) + 0.5  # crop pixel centres
    expected_x = center[0] + (u - 32) * scale
    expected_y = center[1] + (u - 32) * scale
    # OpenCV interpolates on a 1/32-pixel grid
    np.testing.assert_allclose(crop[32, :, 0], expected_x, atol=scale / 32 + 1e-3)
    np.testing.assert_allclose(crop[:, 32, 1], expected_y, atol=scale / 32 + 1e-3)


def test_crop_replicates_border():
    crop = SearchRegion((2.0, 2.0), 1.0, 16).crop(_ramp())
    assert crop[0, 0, 0] == pytest.approx(0.5) and crop[0, 0, 1] == pytest.approx(0.5)


def test_crop_antialiases_strong_downscaling():
    image = np.zeros((400, 400, 3), np.uint8)
    image[:, ::2] = 255  # 1-px stripes average to mid-grey
    crop = SearchRegion((200.0, 200.0), 4.0, 32).crop(image)
    assert abs(float(crop[8:24, 8:24].mean()) - 127.5) < 3


def test_box_mapping_round_trip_and_hand_values():
    box = (100.0, 50.0, 20.0, 40.0)
    region = SearchRegion((110.0, 70.0), 0.5, 288)
    crop_box = region.to_crop(box)
    # box centre (110, 70) = crop centre (144, 144); size 40 x 80 crop px
    assert crop_box == pytest.approx((124.0, 104.0, 40.0, 80.0))
    assert region.to_image(crop_box) == pytest.approx(box)
    around = SearchRegion.around((1.0, 2.0), (20.0, 45.0), 5.0, 288)
    assert around.scale == pytest.approx(math.sqrt(900) * 5 / 288) and around.image_side == pytest.approx(150.0)


def test_crop_without_antialias_samples_the_image_as_it_is():
    image = np.zeros((400, 400, 3), np.uint8)
    image[:, ::2] = 255  # 1-px stripes on even columns
    # crop column u samples image column 200.5 - 0.5 + (u + 0.5 - 16) * 4 = 138 + 4 u: always a white stripe
    crop = SearchRegion((200.5, 200.0), 4.0, 32).crop(image, antialias=False)
    assert float(crop[8:24, 8:24].min()) > 250
