"""Registry of trackers: name -> builder, with lazy imports so that ``--help`` stays fast.

A builder takes keyword arguments ``param`` (parameter-set name), ``checkpoint`` (path or None) and
``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``; None = CUDA when available) and returns a
``trackers.base.Tracker``.
"""
from __future__ import annotations

from typing import Callable

from pytracking.utils.registry import LazyRegistry
from trackers.base import Tracker

TrackerBuilder = Callable[..., Tracker]

_TRACKERS: LazyRegistry[TrackerBuilder] = LazyRegistry("tracker", {
    "atom_ebm": "trackers.atom_ebm.tracker:build_tracker",
    "opencv": "trackers.opencv_baseline:build_tracker",
})


def register_tracker(name: str, builder: TrackerBuilder) -> None:
    """Register ``builder`` under ``name``; registering a name twice is an error."""
    _TRACKERS.register(name, builder)


def list_trackers() -> list[str]:
    """Names of all registered trackers, sorted."""
    return _TRACKERS.names()


def get_tracker_builder(name: str) -> TrackerBuilder:
    """The builder registered as ``name``; ``ValueError`` listing the valid names otherwise."""
    return _TRACKERS.get(name)


def build_tracker(name: str, param: str = "default", checkpoint: str | None = None, device: str | None = None) -> Tracker:
    """Build tracker ``name`` with parameter set ``param``."""
    tracker = get_tracker_builder(name)(param=param, checkpoint=checkpoint, device=device)
    tracker.name = name
    return tracker
