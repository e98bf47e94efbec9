"""Helpers shared by the tests (importable as ``helpers``: tests/ is on pytest's python path): light tracker
parameters, an independent IoU oracle and a checkpoint writer. ``tests/conftest.py`` wraps them as fixtures."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

#: the read-only data, weights, peers and spec folder beside the repository (absent on a fresh clone)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
#: first-frame training lighter than the parameter sets' (the machines running tests are small)
LIGHT_INIT = dict(init_gn_iter=1, init_cg_iter=3, augment_blur=(), augment_rotation=(10.0,), num_dropout_samples=2)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of (x, y, w, h) boxes in continuous coordinates, row by row ([N, 4] or [4]), written from the definition
    (intersection of the two intervals per axis over the union of the areas), independent of the library's code."""
    a, b = np.atleast_2d(np.asarray(a, dtype=np.float64)), np.atleast_2d(np.asarray(b, dtype=np.float64))
    left, top = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    right = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    bottom = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def write_checkpoint(path: Path, net: torch.nn.Module | None = None, **extra: object) -> Path:
    """Save ``net`` (default: a freshly initialised ``atom_resnet18``) as one of our checkpoints at ``path``:
    ``{"net": state dict, "net_constructor": {"name": "atom_resnet18", "kwargs": {}}, **extra}``."""
    from ltr.admin.checkpoint import save_checkpoint
    from ltr.models.bbreg.atom import atom_resnet18

    net = net if net is not None else atom_resnet18()
    save_checkpoint(path, {"net": net.state_dict(), "net_constructor": {"name": "atom_resnet18", "kwargs": {}}, **extra})
    return path
