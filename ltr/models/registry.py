"""Model registry in torchvision's style: ``@register_model()`` builders, ``build_model(name, **kwargs)``.

Builder modules are imported lazily on the first lookup, so importing the registry is cheap.
"""
from __future__ import annotations

import importlib
from typing import Callable, TypeVar

from torch import nn

__all__ = ["register_model", "build_model", "get_model_builder", "list_models"]

ModelBuilder = Callable[..., nn.Module]
_F = TypeVar("_F", bound=ModelBuilder)

#: modules whose import registers builders
_BUILDER_MODULES = ("ltr.models.bbreg.atom",)
_BUILDERS: dict[str, ModelBuilder] = {}


def register_model(name: str | None = None) -> Callable[[_F], _F]:
    """Decorator registering a keyword-only model builder under ``name`` (default: the function name)."""

    def wrapper(fn: _F) -> _F:
        key = name or fn.__name__
        if key in _BUILDERS and _BUILDERS[key] is not fn:
            raise ValueError(f"model '{key}' is already registered")
        _BUILDERS[key] = fn
        return fn

    return wrapper


def _import_builders() -> None:
    for module in _BUILDER_MODULES:
        importlib.import_module(module)


def list_models() -> list[str]:
    """Sorted names of all registered model builders."""
    _import_builders()
    return sorted(_BUILDERS)


def get_model_builder(name: str) -> ModelBuilder:
    """The builder registered as ``name``; ``ValueError`` listing the valid names otherwise."""
    _import_builders()
    if name not in _BUILDERS:
        raise ValueError(f"unknown model '{name}'; valid names: {', '.join(sorted(_BUILDERS))}")
    return _BUILDERS[name]


def build_model(name: str, **kwargs) -> nn.Module:
    """Build model ``name`` with keyword arguments ``kwargs``."""
    return get_model_builder(name)(**kwargs)
