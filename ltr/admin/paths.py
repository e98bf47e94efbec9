"""Where training reads data and writes results: one place, flags first, then environment variables.

There is no ``local.py``. Every path comes from a command-line flag, else from an environment variable, else (the
workspace only) from a default. A missing data-set root raises an error that names both the flag and the variable.
"""
from __future__ import annotations

import os
from pathlib import Path

WORKSPACE_ENV = "LTR_WORKSPACE"
DEFAULT_WORKSPACE = Path("workspace")

# data-set key -> (command-line flag, environment variable)
DATASET_ROOT_SOURCES: dict[str, tuple[str, str]] = {
    "lasot": ("--lasot-root", "LASOT_ROOT"),
    "got10k": ("--got10k-root", "GOT10K_ROOT"),
    "trackingnet": ("--trackingnet-root", "TRACKINGNET_ROOT"),
    "coco": ("--coco-root", "COCO_ROOT"),
    "local": ("--local-data-root", "ATOM_EBM_LOCAL_DATA"),
}

#: a local state-dict file of torchvision's ImageNet ResNet-18 (conv1 .. layer3 suffice), used instead of the download
BACKBONE_WEIGHTS_ENV = "ATOM_EBM_BACKBONE_WEIGHTS"


def resolve_workspace(cli_value: str | os.PathLike | None = None) -> Path:
    """The training workspace: ``cli_value``, else ``$LTR_WORKSPACE``, else ``./workspace``."""
    if cli_value:
        return Path(cli_value)
    env_value = os.environ.get(WORKSPACE_ENV)
    return Path(env_value) if env_value else DEFAULT_WORKSPACE


def resolve_dataset_root(name: str, cli_value: str | os.PathLike | None = None) -> Path:
    """The root folder of training data set ``name`` (``lasot``, ``got10k``, ``trackingnet``, ``coco``, ``local``).

    Args:
        name: data-set key of ``DATASET_ROOT_SOURCES``.
        cli_value: value of the data set's command-line flag, or None.

    Returns:
        An existing, non-empty directory.

    Raises:
        ValueError: unknown data-set key.
        FileNotFoundError: no root given (message names the flag and the variable), or the folder is
            missing or empty.
    """
    if name not in DATASET_ROOT_SOURCES:
        raise ValueError(f"unknown data set '{name}'; valid names: {', '.join(sorted(DATASET_ROOT_SOURCES))}")
    flag, env_var = DATASET_ROOT_SOURCES[name]
    if cli_value:
        root, source = Path(cli_value), flag
    elif os.environ.get(env_var):
        root, source = Path(os.environ[env_var]), f"${env_var}"
    else:
        raise FileNotFoundError(f"no root folder for data set '{name}': pass {flag} DIR or set {env_var}")
    if not root.is_dir():
        raise FileNotFoundError(f"root folder of data set '{name}' from {source} does not exist: {root}")
    if not any(root.iterdir()):
        raise FileNotFoundError(f"root folder of data set '{name}' from {source} is empty: {root}")
    return root


def backbone_weights_file(cli_value: str | os.PathLike | None = None) -> Path | None:
    """The local ImageNet backbone weights: ``cli_value`` (``--backbone-weights``), else ``$ATOM_EBM_BACKBONE_WEIGHTS``,
    else None (torchvision downloads them). ``FileNotFoundError`` for a named file that does not exist."""
    value, source = (cli_value, "--backbone-weights") if cli_value else (os.environ.get(BACKBONE_WEIGHTS_ENV), f"${BACKBONE_WEIGHTS_ENV}")
    if not value:
        return None
    if not Path(value).is_file():
        raise FileNotFoundError(f"backbone weights from {source} not found: {value}")
    return Path(value)


def checkpoint_dir(workspace: Path, module: str, name: str) -> Path:
    """``<workspace>/checkpoints/<module>/<name>``, e.g. ``workspace/checkpoints/bbreg/atom_ebm``."""
    return Path(workspace) / "checkpoints" / module / name


def log_dir(workspace: Path, module: str, name: str) -> Path:
    """``<workspace>/logs/<module>/<name>``: the CSV log and TensorBoard event files."""
    return Path(workspace) / "logs" / module / name
