"""Shared test infrastructure: the golden-file flag and the script importer (the shared helpers, an independent IoU
oracle, a checkpoint writer and light tracker parameters, are in ``helpers``). Where the read-only data folder beside the repository exists
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

import pytest
from helpers import SHARED

if (SHARED / "data").is_dir():
    os.environ.setdefault("ATOM_EBM_LOCAL_DATA", str(SHARED / "data"))
if (SHARED / "weights").is_dir():
    os.environ.setdefault("ATOM_EBM_BACKBONE_WEIGHTS", str(SHARED / "weights" / "resnet18_imagenet_conv1_layer3.pth"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.json from the current code instead of comparing against them")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run rewrites the golden files (``pytest --update-golden``)."""
    return bool(request.config.getoption("--update-golden"))


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
