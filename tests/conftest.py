"""Shared test infrastructure: the golden-file flag and fixtures over ``helpers`` (an independent IoU oracle, a
checkpoint factory, light tracker parameters). Where the read-only data folder beside the repository exists
(``helpers.SHARED``), ``$ATOM_EBM_LOCAL_DATA`` and ``$ATOM_EBM_BACKBONE_WEIGHTS`` default to it, for the tests
and the tools they start; the tests that need it skip without it.

Markers (registered in pyproject.toml): ``slow`` (over ~10 s), ``gpu`` (needs CUDA), ``e2e`` (runs a command-line
tool as a subprocess). ``pytest -m "not slow"`` is the fast tier.
"""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
import pytest
import torch
from helpers import LIGHT_INIT, SHARED, box_iou, write_checkpoint

if (SHARED / "data").is_dir():
    os.environ.setdefault("ATOM_EBM_LOCAL_DATA", str(SHARED / "data"))
if (SHARED / "weights").is_dir():
    os.environ.setdefault("ATOM_EBM_BACKBONE_WEIGHTS", str(SHARED / "weights" / "resnet18_imagenet_conv1_layer3.pth"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.json from the current code instead of comparing against them")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites the golden files (``pytest --update-golden``)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def iou_oracle() -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """:func:`box_iou` as a fixture."""
    return box_iou


@pytest.fixture
def checkpoint_factory(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``checkpoint_factory(name="net.pth.tar", net=None, **extra)`` -> path of a checkpoint in tmp_path."""

    def make(name: str = "net.pth.tar", net: torch.nn.Module | None = None, **extra: object) -> Path:
        return write_checkpoint(tmp_path / name, net, **extra)

    return make


@pytest.fixture
def light_init() -> dict[str, object]:
    """Overrides that make the tracker's first-frame training light (a copy; safe to extend)."""
    return dict(LIGHT_INIT)


@pytest.fixture(scope="session")
def import_script() -> Callable[[str], ModuleType]:
    """``import_script("experiments/sweep_parameters")`` imports a plain script of the repository (its folder is on
    ``sys.path`` only meanwhile)."""

    def load(relative: str) -> ModuleType:
        folder = str(Path(__file__).resolve().parents[1] / Path(relative).parent)
        sys.path.insert(0, folder)
        try:
            return importlib.import_module(Path(relative).name)
        finally:
            sys.path.remove(folder)

    return load
