"""Registry of trackers: name -> builder, with lazy imports so that ``--help`` stays fast.

A builder takes keyword arguments ``param`` (parameter-set name), ``checkpoint`` (path or None) and
``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``; None = CUDA when available) and returns a
``trackers.base.Tracker``. A builder that loads a model folder (``opencv`` with ``nanotrack``) also takes
``model_dir``; it is passed only when given, and giving it to a builder without that keyword is an error.

A tracker may also register an argument check (same keywords, minus ``device``) that validates cheaply
without building the tracker; ``check_tracker_arguments`` runs it so that command-line tools can report
bad arguments before they write anything.
"""
from __future__ import annotations

import inspect
import os
from typing import Callable

from ltr.utils.registry import LazyRegistry
from trackers.base import Tracker

TrackerBuilder = Callable[..., Tracker]
ArgumentCheck = Callable[..., None]

_TRACKERS: LazyRegistry[TrackerBuilder] = LazyRegistry("tracker", {
    "atom_ebm": "trackers.atom_ebm.build:build_tracker",
    "opencv": "trackers.opencv_baseline:build_tracker",
})

_ARGUMENT_CHECKS: LazyRegistry[ArgumentCheck] = LazyRegistry("tracker argument check", {
    "opencv": "trackers.opencv_baseline:check_arguments",
})


def register_tracker(name: str, builder: TrackerBuilder, check: ArgumentCheck | None = None) -> None:
    """Register ``builder`` (and optionally its argument ``check``) under ``name``; registering a name twice is an error."""
    _TRACKERS.register(name, builder)
    if check is not None:
        _ARGUMENT_CHECKS.register(name, check)


def list_trackers() -> list[str]:
    """Names of all registered trackers, sorted."""
    return _TRACKERS.names()


def get_tracker_builder(name: str) -> TrackerBuilder:
    """The builder registered as ``name``; ``ValueError`` listing the valid names otherwise."""
    return _TRACKERS.get(name)


def takes_model_dir(builder: Callable[..., object]) -> bool:
    """True when ``builder`` accepts a ``model_dir`` keyword (explicitly or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(builder).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "model_dir" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _model_dir_kwargs(name: str, builder: Callable[..., object], model_dir: str | os.PathLike | None) -> dict:
    if model_dir is None:
        return {}
    if not takes_model_dir(builder):
        raise ValueError(f"tracker '{name}' takes no model folder; drop --model-dir (it is for opencv nanotrack)")
    return {"model_dir": model_dir}


def check_tracker_arguments(name: str, param: str = "default", checkpoint: str | None = None,
                            model_dir: str | os.PathLike | None = None) -> None:
    """Validate the arguments of ``build_tracker`` without building the tracker (where the tracker allows it).

    Raises ``ValueError`` for an unknown tracker or a ``model_dir`` the tracker does not take, and whatever the
    tracker's registered check raises (``ValueError`` / ``FileNotFoundError``, one line). Trackers without a
    registered check are only checked for the name and ``model_dir``.
    """
    builder = get_tracker_builder(name)
    kwargs = _model_dir_kwargs(name, builder, model_dir)
    if name in _ARGUMENT_CHECKS:
        _ARGUMENT_CHECKS.get(name)(param=param, checkpoint=checkpoint, **kwargs)


def build_tracker(name: str, param: str = "default", checkpoint: str | None = None, device: str | None = None,
                  *, model_dir: str | os.PathLike | None = None) -> Tracker:
    """Build tracker ``name`` with parameter set ``param`` (``model_dir``: see the module docstring)."""
    builder = get_tracker_builder(name)
    tracker = builder(param=param, checkpoint=checkpoint, device=device, **_model_dir_kwargs(name, builder, model_dir))
    tracker.name = name
    return tracker
