"""Golden boxes: every ATOM-EBM parameter set on the first 10 frames of the bundled Couple sequence, with the bundled
model, seed 0, one torch thread and the float32 backbone, must give the boxes stored in
``tests/golden/atom_ebm_boxes.json``. (The int8 and bf16 backbones are held against the float32 one in
``test_backbone_engine.py`` and ``tests/ltr/test_quantization.py``: their kernels may round differently per CPU.)

This pins behaviour across refactors: any change to what a parameter set tracks shows up here. When a change is
meant to move the boxes, regenerate the file with ``pytest tests/trackers/test_golden_boxes.py --update-golden`` and
say why in the commit.
"""
from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from ltr.admin.loading import load_network
from trackers.atom_ebm.parameters import get_parameters, list_parameter_sets
from trackers.atom_ebm.params import with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import bundled_model_path

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "atom_ebm_boxes.json"
COUPLE = Path(str(importlib.resources.files("pytracking") / "demo_data" / "Couple"))
NUM_FRAMES = 10
#: boxes may differ by this much (px) between machines whose kernels round differently
TOLERANCE_PX = 0.01


def _track(param: str) -> list[list[float]]:
    images = sorted((COUPLE / "img").glob("*.jpg"))[:NUM_FRAMES]
    first_box = np.loadtxt(COUPLE / "groundtruth.txt", delimiter=",")[0]
    net = load_network(bundled_model_path())
    tracker = AtomEbmTracker(net, with_overrides(get_parameters(param), {"seed": 0, "precision": "fp32"}), "cpu")
    frames = [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB) for path in images]
    tracker.initialize(frames[0], first_box.tolist())
    return [list(tracker.track(frame).box) for frame in frames[1:]]


def _format(boxes: dict[str, list[list[float]]]) -> str:
    """JSON with one box a line, 4 decimals (well inside the tolerance)."""
    blocks = [f'"{param}": [\n' + ",\n".join("  " + json.dumps([round(v, 4) for v in box]) for box in rows) + "\n ]"
              for param, rows in boxes.items()]
    return "{\n " + ",\n ".join(blocks) + "\n}\n"


@pytest.fixture(scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def golden(update_golden: bool, one_thread) -> dict[str, list[list[float]]]:
    if update_golden:
        boxes = {param: _track(param) for param in list_parameter_sets()}
        GOLDEN.write_text(_format(boxes))
    return json.loads(GOLDEN.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("param", list_parameter_sets())
def test_parameter_set_boxes_match_golden(param: str, golden, one_thread) -> None:
    assert param in golden, f"no golden boxes for {param!r}: run with --update-golden"
    boxes = np.array(_track(param))
    expected = np.array(golden[param])
    assert boxes.shape == expected.shape == (NUM_FRAMES - 1, 4)
    np.testing.assert_allclose(boxes, expected, rtol=0, atol=TOLERANCE_PX, err_msg=f"parameter set {param!r}")
