"""Registry of trackers: name -> builder, with lazy imports so that ``--help`` stays fast.

A builder takes keyword arguments ``param`` (parameter-set name), ``checkpoint`` (path or None) and
``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``; None = CUDA when available) and returns a
``trackers.base.Tracker``. Builders may take further options (``BUILDER_OPTIONS``): ``model_dir``, the model folder
of ``opencv`` with ``nanotrack`` / ``vittrack``, and ``precision``, the backbone arithmetic of ``atom_ebm``. An option
is passed only when given, and giving it to a builder without that keyword is an error naming the option.

A tracker may also register an argument check (same keywords, minus ``device``) that validates cheaply
without building the tracker; ``check_tracker_arguments`` runs it so that command-line tools can report
bad arguments before they write anything.
"""
from __future__ import annotations

import inspect
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


#: optional builder keywords -> (command-line flag, what it sets), for error messages
BUILDER_OPTIONS = {"model_dir": ("--model-dir", "model folder"), "precision": ("--precision", "precision")}


def takes_option(builder: Callable[..., object], option: str) -> bool:
    """True when ``builder`` accepts the keyword ``option`` (explicitly or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(builder).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == option or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _builder_kwargs(name: str, builder: Callable[..., object], options: dict[str, object]) -> dict:
    """The given (not None) ``options``; ``ValueError`` for one the builder does not take."""
    given = {key: value for key, value in options.items() if value is not None}
    for key in given:
        if key not in BUILDER_OPTIONS:
            raise TypeError(f"unknown tracker builder option {key!r}; known: {sorted(BUILDER_OPTIONS)}")
        if not takes_option(builder, key):
            flag, what = BUILDER_OPTIONS[key]
            raise ValueError(f"tracker '{name}' takes no {what}; drop {flag}")
    return given


def check_tracker_arguments(name: str, param: str = "default", checkpoint: str | None = None,
                            **options: object) -> None:
    """Validate the arguments of ``build_tracker`` without building the tracker (where the tracker allows it).

    Raises ``ValueError`` for an unknown tracker or an option (``BUILDER_OPTIONS``) the tracker does not take, and
    whatever the tracker's registered check raises (``ValueError`` / ``FileNotFoundError``, one line). Trackers
    without a registered check are only checked for the name and the options.
    """
    builder = get_tracker_builder(name)
    kwargs = _builder_kwargs(name, builder, options)
    if name in _ARGUMENT_CHECKS:
        _ARGUMENT_CHECKS.get(name)(param=param, checkpoint=checkpoint, **kwargs)


def build_tracker(name: str, param: str = "default", checkpoint: str | None = None, device: str | None = None,
                  **options: object) -> Tracker:
    """Build tracker ``name`` with parameter set ``param`` and the given ``BUILDER_OPTIONS`` (see the module
    docstring; None = not given)."""
    builder = get_tracker_builder(name)
    tracker = builder(param=param, checkpoint=checkpoint, device=device, **_builder_kwargs(name, builder, options))
    tracker.name = name
    return tracker
