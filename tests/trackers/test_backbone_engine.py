"""The tracker's backbone engine (``trackers.atom_ebm.backbone_engine``): each precision against the float32 eager
backbone on real crops, the fallbacks and the errors; and tracking with int8 on real video."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from helpers import LIGHT_INIT, box_iou

from ltr.admin.loading import load_network
from ltr.data.normalization import ImageNormalizer
from ltr.data.search_region import SearchRegion
from ltr.utils.image_io import read_image
from pytracking.demo import demo_sequence, zero_based
from trackers.atom_ebm.backbone_engine import BackboneEngine, engine_cache_dir
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import AtomEbmParams, with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import bundled_model_path

pytest.importorskip("torchao")
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def net():
    network = load_network(bundled_model_path())
    assert network.int8_calibration is not None, "the bundled model ships its int8 calibration"
    return network


@pytest.fixture(scope="module")
def crops(net):
    """Normalised 192 px crops of three demo frames around their ground truth."""
    demo = demo_sequence()
    boxes = zero_based(demo.ground_truth, demo)
    images = []
    for index in (10, 50, 90):
        x, y, w, h = boxes[index]
        images.append(SearchRegion.around((x + w / 2, y + h / 2), (w, h), 5.0, 192).crop(read_image(demo.frames[index])))
    return ImageNormalizer(net.input_spec)(np.stack(images))


@pytest.mark.slow
@pytest.mark.parametrize("precision, tolerance", [("bf16", 0.03), ("int8", 0.09)])
def test_engine_matches_eager_float32(net, crops, precision, tolerance):
    want = net.extract_backbone_features(crops, layers=["layer3", "layer2"])
    got = BackboneEngine(net, precision, CPU)(crops, ["layer3", "layer2"])
    assert list(got) == ["layer3", "layer2"]
    for name in got:
        assert got[name].dtype == torch.float32 and got[name].shape == want[name].shape
        relative = float((got[name] - want[name]).norm() / want[name].norm())
        assert relative < tolerance, (precision, name, relative)  # bf16: ~1 %, int8: ~5 % of the norm


#: one process tracking's first backbone pass: int8 on the crops in argv[1], layer3 saved to argv[2]
_ENGINE_RUN = """
import logging, sys, torch
logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
from ltr.admin.loading import load_network
from trackers.atom_ebm.backbone_engine import BackboneEngine
from trackers.atom_ebm.weights import bundled_model_path
engine = BackboneEngine(load_network(bundled_model_path()), "int8", torch.device("cpu"))
torch.save(engine(torch.load(sys.argv[1], weights_only=True), ["layer3"])["layer3"], sys.argv[2])
"""


def test_the_kernel_folder_is_keyed_by_weights_calibration_and_versions(net, tmp_path, monkeypatch):
    monkeypatch.setenv("ATOM_EBM_ENGINE_CACHE", str(tmp_path))
    folder = engine_cache_dir(net, "int8")
    assert folder.parent == tmp_path and folder.name.startswith("int8-") and "-torchao" in folder.name
    assert f"-torch{torch.__version__.split('+')[0]}" in folder.name and engine_cache_dir(net, "bf16") != folder
    other = load_network(bundled_model_path())
    assert engine_cache_dir(other, "int8") == folder  # the same model loaded again
    other.int8_calibration = {key: value.clone() for key, value in other.int8_calibration.items()}
    next(value for value in other.int8_calibration.values() if value.is_floating_point()).mul_(2.0)
    assert engine_cache_dir(other, "int8") != folder
    with torch.no_grad():
        other.feature_extractor.conv1.weight.add_(1e-3)
    assert engine_cache_dir(other, "bf16") != engine_cache_dir(net, "bf16")


@pytest.mark.slow
def test_a_corrupt_kernel_folder_is_rebuilt_with_one_warning(net, crops, tmp_path):
    """Two processes, as in use: the first compiles into the model's folder, the second finds it corrupt."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ATOM_EBM_ENGINE_CACHE": str(tmp_path / "engines")}
    torch.save(crops, tmp_path / "crops.pt")

    def run(out: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", _ENGINE_RUN, str(tmp_path / "crops.pt"), str(tmp_path / out)],
                              env=env, capture_output=True, text=True, timeout=300)

    first = run("first.pt")
    assert first.returncode == 0, first.stderr
    (folder,) = (tmp_path / "engines").iterdir()
    assert any(folder.rglob("*.so")), "the compiled kernels are written to the model's folder"
    for file in folder.rglob("*"):
        if file.is_file():
            file.write_bytes(b"garbage")
    second = run("second.pt")
    assert second.returncode == 0, second.stderr
    warnings = [line for line in second.stderr.splitlines() if line.startswith("trackers.atom_ebm.backbone_engine")]
    assert len(warnings) == 1 and "could not be loaded" in warnings[0] and str(folder) in warnings[0], second.stderr
    torch.testing.assert_close(torch.load(tmp_path / "second.pt", weights_only=True),
                               torch.load(tmp_path / "first.pt", weights_only=True))
    assert not any(f.read_bytes() == b"garbage" for f in folder.rglob("*") if f.is_file())


def test_fp32_engine_is_the_network_itself(net, crops):
    got = BackboneEngine(net, "fp32", CPU)(crops, ["layer2"])
    assert torch.equal(got["layer2"], net.extract_backbone_features(crops, layers=["layer2"])["layer2"])


def test_uncalibrated_model_falls_back_to_fp32_with_a_warning(net, caplog):
    uncalibrated = load_network(bundled_model_path())
    uncalibrated.int8_calibration = None
    with caplog.at_level(logging.WARNING):
        engine = BackboneEngine(uncalibrated, "int8", CPU)
    assert engine.precision == "fp32" and "no int8 calibration" in caplog.text


def test_bad_precisions(net):
    with pytest.raises(ValueError, match="precision must be one of"):
        BackboneEngine(net, "fp8", CPU)
    assert BackboneEngine(net, "int8", torch.device("cuda")).precision == "fp32"  # CUDA keeps its float path
    with pytest.raises(ValueError, match="precision must be one of"):
        AtomEbmParams(precision="int4")
    with pytest.raises(ValueError, match="layer2/layer3 only"):
        AtomEbmParams(precision="int8", classifier_features="layer1")


@pytest.mark.slow
def test_int8_tracks_the_demo_sequence(net):
    """40 frames of the bundled Couple with the int8 backbone: the boxes follow the ground truth."""
    demo = demo_sequence()
    truth = zero_based(demo.ground_truth, demo)
    params = with_overrides(get_parameters("default"), {**LIGHT_INIT, "precision": "int8", "seed": 0})
    tracker = AtomEbmTracker(net, params, device="cpu")
    tracker.initialize(read_image(demo.frames[0]), truth[0].tolist())
    boxes = [tracker.track(read_image(path)).box for path in demo.frames[1:40]]
    overlap = box_iou(np.array(boxes), truth[1:40])
    # a tracker that keeps the first box scores a mean IoU of 0.12 here (0.03 of the frames above 0.5)
    assert overlap.mean() > 0.6 and (overlap > 0.5).mean() > 0.85, overlap.round(2)


def test_missing_torchao_or_compiler_falls_back_to_fp32_with_a_warning(net, caplog, monkeypatch):
    import trackers.atom_ebm.backbone_engine as engine_module

    monkeypatch.setattr(engine_module, "_have_cpp_compiler", lambda: False)
    with caplog.at_level(logging.WARNING):
        assert BackboneEngine(net, "bf16", CPU).precision == "fp32"
    assert "needs a C++ compiler" in caplog.text
    monkeypatch.setattr(engine_module.importlib.util, "find_spec", lambda name: None)
    with caplog.at_level(logging.WARNING):
        assert BackboneEngine(net, "int8", CPU).precision == "fp32"
    assert "int8 needs torchao" in caplog.text


def test_bfloat16_test_branch_matches_the_float_head(net):
    """With a reduced precision the IoU-Net's test-feature convolutions run on a bfloat16 copy of the head: close to
    the float head (bfloat16 keeps 8 bits: well under 2 % of the norm), and the network itself stays float32."""
    from trackers.atom_ebm.iou_refinement import IoURefinement

    refinement = IoURefinement(net, get_parameters("default"), CPU, torch.Generator())
    assert refinement.bfloat16_head and next(net.bb_regressor.parameters()).dtype == torch.float32
    torch.manual_seed(0)
    feats = [torch.rand(1, 128, 24, 24), torch.rand(1, 256, 12, 12)]
    with torch.no_grad():
        want = net.bb_regressor.get_iou_feat(feats)
        got = refinement.iou_features(feats)
    for g, w in zip(got, want):
        assert g.dtype == torch.float32 and float((g - w).norm() / w.norm()) < 0.02
