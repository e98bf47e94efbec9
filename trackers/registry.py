"""Registry of trackers: name -> builder, with lazy imports so that ``--help`` stays fast.

A builder takes keyword arguments ``param`` (parameter-set name), ``checkpoint`` (path or None) and
``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``; None = CUDA when available) and returns a
``trackers.base.Tracker``.
"""
from __future__ import annotations

import importlib
from typing import Callable

from trackers.base import Tracker

TrackerBuilder = Callable[..., Tracker]

# name -> "module:function"; the module is imported only when the tracker is built.
_LAZY_BUILDERS: dict[str, str] = {
    "atom_ebm": "trackers.atom_ebm.tracker:build_tracker",
    "opencv": "trackers.opencv_baseline:build_tracker",
}
_BUILDERS: dict[str, TrackerBuilder] = {}


def register_tracker(name: str, builder: TrackerBuilder) -> None:
    """Register ``builder`` under ``name``; registering a name twice is an error."""
    if name in _BUILDERS or name in _LAZY_BUILDERS:
        raise ValueError(f"tracker '{name}' is already registered")
    _BUILDERS[name] = builder


def list_trackers() -> list[str]:
    """Names of all registered trackers, sorted."""
    return sorted(set(_BUILDERS) | set(_LAZY_BUILDERS))


def get_tracker_builder(name: str) -> TrackerBuilder:
    """The builder registered as ``name``; ``ValueError`` listing the valid names otherwise."""
    if name in _BUILDERS:
        return _BUILDERS[name]
    if name not in _LAZY_BUILDERS:
        raise ValueError(f"unknown tracker '{name}'; valid names: {', '.join(list_trackers())}")
    module_name, function_name = _LAZY_BUILDERS[name].split(":")
    builder = getattr(importlib.import_module(module_name), function_name)
    _BUILDERS[name] = builder
    return builder


def build_tracker(name: str, param: str = "default", checkpoint: str | None = None, device: str | None = None) -> Tracker:
    """Build tracker ``name`` with parameter set ``param``."""
    tracker = get_tracker_builder(name)(param=param, checkpoint=checkpoint, device=device)
    tracker.name = name
    return tracker
