"""Which checkpoint the ATOM-EBM tracker loads: argument, else $ATOM_EBM_CHECKPOINT, else the bundled model."""
from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

CHECKPOINT_ENV_VAR = "ATOM_EBM_CHECKPOINT"
BUNDLED_MODEL = "atom_ebm_default.pth"


def bundled_model_path() -> Path:
    """Path of the bundled default model (it may not exist)."""
    return Path(str(importlib.resources.files("trackers.atom_ebm") / "weights" / BUNDLED_MODEL))


def resolve_checkpoint(checkpoint: str | os.PathLike | None = None) -> Path:
    """The checkpoint to load (a file or a directory of ``*.pth.tar``).

    Order: ``checkpoint`` (e.g. ``--checkpoint``), the ``ATOM_EBM_CHECKPOINT`` environment variable, the bundled
    ``trackers/atom_ebm/weights/atom_ebm_default.pth``.

    Raises:
        FileNotFoundError: the named checkpoint does not exist, or none of the three is available.
    """
    if checkpoint is not None:
        path = Path(checkpoint)
        if not path.exists():
            raise FileNotFoundError(f"checkpoint not found: {path}")
        return path
    from_env = os.environ.get(CHECKPOINT_ENV_VAR)
    if from_env:
        path = Path(from_env)
        if not path.exists():
            raise FileNotFoundError(f"checkpoint from ${CHECKPOINT_ENV_VAR} not found: {path}")
        return path
    bundled = bundled_model_path()
    if bundled.is_file():
        return bundled
    raise FileNotFoundError(
        f"no ATOM-EBM checkpoint: pass --checkpoint FILE, set ${CHECKPOINT_ENV_VAR}, or install the bundled "
        f"model at {bundled}"
    )
