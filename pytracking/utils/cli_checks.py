"""Cheap checks of command-line values, run before any work so that a bad value never costs a tracked video.

Each raises ``ValueError`` (or ``argparse.ArgumentTypeError`` for argparse types) naming the option and the value.
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

_DEVICE = re.compile(r"cpu|cuda(:\d+)?")


def parse_device(text: str) -> str:
    """argparse type of ``--device``: ``cpu``, ``cuda`` or ``cuda:N``, a CUDA device only where this machine has it.

    Only a CUDA device imports torch here (the tracker loads it anyway).
    """
    if not _DEVICE.fullmatch(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a device; use cpu, cuda or cuda:N")
    if text.startswith("cuda"):
        import torch

        count, index = torch.cuda.device_count(), int(text.partition(":")[2] or 0)
        if count == 0:
            raise argparse.ArgumentTypeError(f"'{text}': CUDA is not available here; use --device cpu")
        if index >= count:
            raise argparse.ArgumentTypeError(f"'{text}': this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return text


def add_precision_argument(parser: argparse.ArgumentParser) -> None:
    """``--precision``: the ATOM-EBM backbone's arithmetic on the CPU (``AtomEbmParams.precision``)."""
    from trackers.atom_ebm.params import PRECISIONS

    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="backbone arithmetic of atom_ebm on the CPU: fp32 (eager), bf16 or int8 (compiled; int8 "
                             "needs a calibrated model, see atom-ebm calibrate) (default: the parameter set's); "
                             "an error for other trackers")


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (``.`` for a relative path whose folders are all missing)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _check_writable_folder(option: str, path: str | os.PathLike, folder: Path) -> None:
    if not folder.is_dir():
        raise ValueError(f"{option} {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{option} {path}: folder {folder} is not writable")


def check_output_file(option: str, path: str | os.PathLike | None, *, make_folders: bool = False) -> None:
    """``ValueError`` naming ``option`` unless ``path`` (None: not asked for) can be written as a file.

    It must not be a folder, and its folder must be writable; with ``make_folders`` a missing folder is fine
    when the nearest existing one is writable (the writer creates the rest), else it must exist.
    """
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{option} {path}: is a folder, give a file name")
    folder = target.parent
    if make_folders:
        folder = _nearest_existing(folder)
    elif not folder.is_dir():
        raise ValueError(f"{option} {path}: folder {folder} does not exist")
    _check_writable_folder(option, path, folder)


def check_output_folder(option: str, path: str | os.PathLike | None) -> None:
    """``ValueError`` naming ``option`` unless ``path`` (None: not asked for) is or can become a writable folder."""
    if path is None:
        return
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ValueError(f"{option} {path}: is a file, give a folder")
    _check_writable_folder(option, path, _nearest_existing(target))

