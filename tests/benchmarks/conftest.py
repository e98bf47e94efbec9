"""Fixtures for tests of the scripts in ``benchmarks/`` (plain scripts, not a package)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="session")
def import_benchmark() -> Callable[[str], ModuleType]:
    """``import_benchmark(name)`` imports ``benchmarks/<name>.py`` (its folder is on ``sys.path`` only meanwhile)."""

    def load(name: str) -> ModuleType:
        sys.path.insert(0, str(BENCHMARKS))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(str(BENCHMARKS))

    return load
