"""HOG + colour features against closed-form values computed independently with numpy."""
import math

import numpy as np
import pytest
import torch

from trackers.atom_ebm.handcrafted_features import (
    HOG_CLIP,
    NUM_ORIENTATIONS,
    gradient_orientation_bins,
    hog_color_features,
    normalize_cells,
)


def expected_bins(theta: float, magnitude: float) -> np.ndarray:
    """Linear split of an unsigned angle between its two nearest bin centres (k + 0.5) * pi / 9, written directly."""
    width = math.pi / NUM_ORIENTATIONS
    position = (theta % math.pi) / width - 0.5  # in bin-centre units
    lower = math.floor(position)
    upper_weight = position - lower
    bins = np.zeros(NUM_ORIENTATIONS)
    bins[lower % NUM_ORIENTATIONS] += magnitude * (1 - upper_weight)
    bins[(lower + 1) % NUM_ORIENTATIONS] += magnitude * upper_weight
    return bins


@pytest.mark.parametrize("theta", [0.0, 0.3, 1.0, 1.5707963, 2.2, 3.0, -0.7])
def test_orientation_bins_of_a_linear_ramp(theta):
    # image = a * x cos(theta) + a * y sin(theta): central differences give (2a cos, 2a sin) everywhere inside
    a = 0.01
    ys, xs = np.mgrid[0:12, 0:12].astype(np.float64)
    ramp = a * (xs * math.cos(theta) + ys * math.sin(theta))
    image = torch.from_numpy(np.stack([ramp, 0.5 * ramp, 0.25 * ramp]))[None].float()
    bins = gradient_orientation_bins(image)[0, :, 6, 6].numpy()
    np.testing.assert_allclose(bins, expected_bins(theta, 2 * a), atol=1e-6)


def test_strongest_colour_channel_is_used():
    image = torch.zeros(1, 3, 8, 8)
    image[0, 1, :, 4:] = 1.0  # green: vertical edge (gradient along x)
    image[0, 2, 4:, :] = 3.0  # blue: horizontal edge, stronger
    bins = gradient_orientation_bins(image)[0, :, 4, 2].numpy()  # only the blue edge here
    np.testing.assert_allclose(bins, expected_bins(math.pi / 2, 3.0), atol=1e-6)
    bins = gradient_orientation_bins(image)[0, :, 4, 4].numpy()  # both; blue (3 over 2 px) beats green (1)
    np.testing.assert_allclose(bins, expected_bins(math.pi / 2, 3.0), atol=1e-6)


def test_a_tie_between_channels_takes_the_first():
    image = torch.zeros(1, 3, 5, 5)
    image[0, 0, :, 3:] = 1.0  # red: vertical edge, gradient (1, 0) at (2, 2)
    image[0, 2, 3:, :] = 1.0  # blue: horizontal edge, gradient (0, 1) there, the same magnitude
    bins = gradient_orientation_bins(image)[0, :, 2, 2].numpy()
    np.testing.assert_allclose(bins, expected_bins(0.0, 1.0), atol=1e-6)


def test_constant_colour_has_no_gradient_and_known_opponent_values():
    rgb = np.array([0.8, -0.2, 0.5])
    image = torch.from_numpy(np.broadcast_to(rgb[:, None, None], (3, 16, 24)).copy())[None].float()
    features = hog_color_features(image, 8)
    assert features.shape == (1, NUM_ORIENTATIONS + 3, 2, 3)
    assert torch.all(features[:, :NUM_ORIENTATIONS] == 0)
    opponent = np.array([(rgb[0] - rgb[1]) / math.sqrt(2), (rgb[0] + rgb[1] - 2 * rgb[2]) / math.sqrt(6),
                         rgb.sum() / math.sqrt(3)])
    rms = math.sqrt((opponent ** 2).mean())
    np.testing.assert_allclose(features[0, NUM_ORIENTATIONS:, 1, 2].numpy(), opponent / rms, rtol=1e-5)


def test_cell_normalisation_against_a_loop():
    generator = torch.Generator().manual_seed(0)
    hog = torch.rand(2, NUM_ORIENTATIONS, 5, 7, generator=generator).double()
    hog[0, :, 2, 3] *= 20.0  # one strong cell: its own entries clip, its neighbours shrink
    reference = np.zeros(hog.shape)
    values = hog.numpy()
    for b, row, col in np.ndindex(2, 5, 7):
        block = values[b, :, max(row - 1, 0):row + 2, max(col - 1, 0):col + 2]
        norms2 = (block ** 2).sum(axis=0)
        reference[b, :, row, col] = np.minimum(values[b, :, row, col] / math.sqrt(norms2.mean()), HOG_CLIP)
    np.testing.assert_allclose(normalize_cells(hog).numpy(), reference, rtol=1e-6)
    assert (reference == HOG_CLIP).any() and (reference < HOG_CLIP).any()


def test_feature_groups_have_unit_rms():
    generator = torch.Generator().manual_seed(0)
    features = hog_color_features(torch.randn(2, 3, 64, 64, generator=generator), 8)
    for group in (features[:, :NUM_ORIENTATIONS], features[:, NUM_ORIENTATIONS:]):
        assert torch.allclose(group.pow(2).mean(dim=(1, 2, 3)), torch.ones(2), atol=1e-5)


def test_shifting_the_image_by_one_cell_shifts_interior_cells():
    generator = torch.Generator().manual_seed(1)
    image = torch.randn(1, 3, 80, 80, generator=generator)
    features = hog_color_features(image[..., 8:72], 8)
    shifted = hog_color_features(image[..., 16:80], 8)
    # the per-sample RMS scaling differs between the two crops: compare the directions of interior cells
    a = features[0, :, 1:-1, 2:-1].flatten(1)
    b = shifted[0, :, 1:-1, 1:-2].flatten(1)
    cosine = torch.nn.functional.cosine_similarity(a[:NUM_ORIENTATIONS].T, b[:NUM_ORIENTATIONS].T, dim=1)
    assert cosine.min() > 0.999


def test_image_size_must_be_a_multiple_of_the_cell():
    with pytest.raises(ValueError, match="multiple of the cell size 8"):
        hog_color_features(torch.zeros(1, 3, 20, 16), 8)
