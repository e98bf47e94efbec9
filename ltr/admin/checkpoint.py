"""Checkpoint files: a plain dict of tensors, numbers, strings and JSON-like builder arguments.

Layout of our checkpoints::

    {"net": state_dict, "net_constructor": {"name": "atom_resnet18", "kwargs": {...}}, "epoch": int, ...}

They are written atomically (temporary file + ``os.replace``) and read with ``torch.load(weights_only=True)``,
which never executes code from the file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ltr.utils.files import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Atomically ``torch.save`` ``state`` to ``path`` (parent folders are created).

    Raises:
        ValueError: if ``state`` is not a dict.
    """
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint state must be a dict, got {type(state).__name__}")
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint dict written by :func:`save_checkpoint` (``weights_only=True``, no code execution).

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not a weights-only checkpoint dict (e.g. a legacy pytracking pickle).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # any parse failure of an untrusted file becomes one clear error
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{path}: not a weights-only checkpoint ({first_line})") from error
    if not isinstance(state, dict):
        raise ValueError(f"{path}: checkpoint must hold a dict, got {type(state).__name__}")
    return state
