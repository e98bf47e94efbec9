"""Checkpoint files: a plain dict of tensors, numbers, strings and JSON-like builder arguments.

Layout of our checkpoints::

    {"net": state_dict, "net_constructor": {"name": "atom_resnet18", "kwargs": {...}}, "epoch": int, ...}

They are written atomically (temporary file + ``os.replace``) and read with ``torch.load(weights_only=True)``,
which never executes code from the file.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from ltr.utils.files import atomic_write

__all__ = ["checkpoint_path", "list_checkpoints", "load_checkpoint", "save_checkpoint"]


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


def checkpoint_path(checkpoint_dir: str | os.PathLike, net_type: str, epoch: int) -> Path:
    """``<checkpoint_dir>/<net_type>_ep%04d.pth.tar``, the name the trainer saves epoch ``epoch`` under."""
    return Path(checkpoint_dir) / f"{net_type}_ep{epoch:04d}.pth.tar"


def list_checkpoints(checkpoint_dir: str | os.PathLike, net_type: str | None = None) -> list[tuple[int, Path]]:
    """``(epoch, path)`` of the ``<net_type>_epNNNN.pth.tar`` files in ``checkpoint_dir`` (any ``net_type`` if None),
    oldest epoch first; other files (``init.pth.tar``, exports) are not epochs and are ignored."""
    prefix = re.escape(net_type) if net_type is not None else ".+"
    pattern = re.compile(rf"^{prefix}_ep(\d+)\.pth\.tar$")
    found = []
    if Path(checkpoint_dir).is_dir():
        for path in Path(checkpoint_dir).iterdir():
            match = pattern.match(path.name)
            if match:
                found.append((int(match.group(1)), path))
    return sorted(found)
