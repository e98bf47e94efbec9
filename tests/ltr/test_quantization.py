"""int8 backbone (``ltr.models.backbone.quantization``) against the float32 backbone it quantizes, on real frames."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ltr.admin.loading import load_network
from ltr.data.search_region import SearchRegion
from ltr.models.backbone.quantization import INT8_LAYERS, calibrate_int8, quantize_int8
from ltr.utils.image_io import read_image
from trackers.atom_ebm.weights import bundled_model_path

pytest.importorskip("torchao")
DEMO = bundled_model_path().parents[3] / "pytracking" / "demo_data" / "Couple"
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def _crops(frames: range, side: int) -> torch.Tensor:
    """Normalised crops around the demo sequence's ground truth (search area 4)."""
    boxes = np.loadtxt(DEMO / "groundtruth.txt", delimiter=",")
    images = []
    for index in frames:
        x, y, w, h = boxes[index] - [1, 1, 0, 0]
        crop = SearchRegion.around((x + w / 2, y + h / 2), (w, h), 4.0, side).crop(
            read_image(DEMO / "img" / f"{index + 1:04d}.jpg"))
        images.append(torch.from_numpy(crop).permute(2, 0, 1).float() / 255.0)
    return (torch.stack(images) - MEAN) / STD


@pytest.fixture(scope="module")
def backbone():
    return load_network(bundled_model_path()).feature_extractor


@pytest.fixture(scope="module")
def calibration(backbone):
    return calibrate_int8(backbone, [_crops(range(0, 40, 5), 288), _crops(range(2, 40, 5), 192)])


@pytest.mark.parametrize("side", [288, 192])
def test_int8_graph_matches_float_backbone_on_unseen_frames(backbone, calibration, side):
    images = _crops(range(60, 100, 10), side)  # frames the calibration never saw
    graph = quantize_int8(backbone, calibration, (1, 3, side, side))
    with torch.no_grad():
        reference = backbone(images, INT8_LAYERS)
        quantized = [graph(image[None]) for image in images]
    for index, name in enumerate(INT8_LAYERS):
        got = torch.cat([q[index] for q in quantized])
        want = reference[name]
        assert got.shape == want.shape
        relative = float((got - want).norm() / want.norm())
        cosine = float(torch.nn.functional.cosine_similarity(got.flatten(), want.flatten(), dim=0))
        # 8-bit activations and per-channel weights cost about 5 % of the feature norm here; ranges 4x too wide
        # (a calibration that does not fit) cost 13 %
        assert relative < 0.09 and cosine > 0.995, (name, relative, cosine)


def test_calibration_is_observer_state_and_must_fit_the_graph(backbone, calibration):
    assert calibration and all(isinstance(value, torch.Tensor) for value in calibration.values())
    ranges = [key for key in calibration if key.endswith("max_val")]
    assert ranges and all(float(calibration[key]) > 0 for key in ranges)
    partial = dict(list(calibration.items())[:-4])
    with pytest.raises(ValueError, match="observer tensors"):
        quantize_int8(backbone, partial, (1, 3, 288, 288))


def test_calibration_needs_images(backbone):
    with pytest.raises(ValueError, match="at least one image"):
        calibrate_int8(backbone, [])
