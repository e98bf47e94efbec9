"""A name -> object registry whose entries may be ``"module:attribute"`` strings, imported on first use.

Lazy entries keep command-line ``--help`` fast (no torch model code is imported to list names). Registering
a name twice is an error; an unknown name is an error that lists the valid ones.
"""
from __future__ import annotations

import importlib
from typing import Generic, TypeVar

T = TypeVar("T")


class LazyRegistry(Generic[T]):
    """Registry of ``kind`` objects (e.g. kind ``"tracker"`` for error messages)."""

    def __init__(self, kind: str, lazy: dict[str, str]):
        self.kind = kind
        self._lazy = dict(lazy)
        self._loaded: dict[str, T] = {}

    def register(self, name: str, obj: T) -> None:
        """Register ``obj`` as ``name``; ``ValueError`` if the name is taken."""
        if name in self:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._loaded[name] = obj

    def __contains__(self, name: str) -> bool:
        return name in self._loaded or name in self._lazy

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(set(self._loaded) | set(self._lazy))

    def get(self, name: str) -> T:
        """The object registered as ``name`` (imported on first use)."""
        if name not in self._loaded:
            if name not in self._lazy:
                raise ValueError(f"unknown {self.kind} '{name}'; valid names: {', '.join(self.names())}")
            module_name, attribute = self._lazy[name].split(":")
            self._loaded[name] = getattr(importlib.import_module(module_name), attribute)
        return self._loaded[name]
