"""The tracker contract (``trackers.base``), for every registered tracker and every parameter set: boxes are four
finite floats with positive sides, the score a float, timings and info dicts; ``track`` before ``initialize`` is a
``RuntimeError``, a frame of another size or a non-RGB array a ``ValueError``."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
from helpers import SHARED

from ltr.utils.image_io import read_image
from pytracking.demo import demo_sequence, zero_based
from trackers.atom_ebm.parameters import list_parameter_sets
from trackers.base import TrackerOutput
from trackers.opencv_baseline import KINDS, MODEL_KINDS
from trackers.registry import build_tracker, list_trackers

PEERS = {"nanotrack": SHARED / "peers" / "nanotrack_v2", "vittrack": SHARED / "peers" / "vittrack"}


def _model_dir(kind: str) -> str | None:
    """The model folder of an OpenCV model tracker: its environment variable, else the shared peers folder."""
    return os.environ.get(MODEL_KINDS[kind].env_var) or (str(PEERS[kind]) if PEERS[kind].is_dir() else None)


def _cases() -> list:
    cases = [pytest.param("atom_ebm", param, None, id=f"atom_ebm-{param}") for param in list_parameter_sets()]
    for kind in KINDS:
        model_dir = _model_dir(kind) if kind in MODEL_KINDS else None
        marks = [pytest.mark.skipif(kind in MODEL_KINDS and model_dir is None, reason=f"no {kind} model folder")]
        cases.append(pytest.param("opencv", kind, model_dir, id=f"opencv-{kind}", marks=marks))
    return cases


def test_every_shipped_tracker_is_covered():
    """The trackers the package registers (other tests register stand-ins of their own)."""
    assert {"atom_ebm", "opencv"} <= set(list_trackers())


@pytest.fixture(scope="module")
def frames():
    demo = demo_sequence()
    return [read_image(path) for path in demo.frames[:3]], zero_based(demo.ground_truth[:1], demo)[0]


@pytest.mark.parametrize("name, param, model_dir", _cases())
def test_tracker_contract(name, param, model_dir, frames):
    images, box = frames
    tracker = build_tracker(name, param=param, device="cpu", model_dir=model_dir)
    with pytest.raises(RuntimeError):
        tracker.track(images[1])
    tracker.initialize(images[0], box.tolist())
    for image in images[1:]:
        out = tracker.track(image)
        assert isinstance(out, TrackerOutput) and len(out.box) == 4
        assert all(isinstance(v, float) and math.isfinite(v) for v in out.box) and out.box[2] > 0 and out.box[3] > 0
        assert isinstance(out.score, float) and isinstance(out.timings, dict) and isinstance(out.info, dict)
    with pytest.raises(ValueError):
        tracker.track(images[1].astype(np.float32))
    if name == "atom_ebm":  # the OpenCV trackers accept any frame size
        with pytest.raises(ValueError, match="frame size"):
            tracker.track(np.ascontiguousarray(images[1][:-8]))
