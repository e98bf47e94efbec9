"""``run_info.json``: how a results folder was made (command, checkpoint and its hash, data set, seed, code version).

Written atomically into ``<results_dir>/<tracker>/<param>/`` at the start of every run, so that a results page or
a reader months later can tell which command, model file and commit produced the result files; ``read_run_info``
reads it back (the ``report --html`` page shows it).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import shlex
import subprocess
from pathlib import Path

from ltr.utils.files import atomic_write_text
from pytracking.evaluation.distributed import RankInfo

RUN_INFO_FILE = "run_info.json"
#: what a reader shows for a results folder without the file
NO_RUN_INFO = f"no {RUN_INFO_FILE} (results written by an older version or by hand)"
#: Trackers that load a network checkpoint through ``trackers.atom_ebm.weights`` (``--checkpoint``, else
#: ``$ATOM_EBM_CHECKPOINT``, else the bundled model): their checkpoint is recorded even when none was given.
_ATOM_EBM_TRACKERS = ("atom_ebm",)
_REPO = Path(__file__).resolve().parents[2]


def checkpoint_file(tracker: str, checkpoint: str | os.PathLike | None) -> Path | None:
    """The network file the tracker loads: ``checkpoint`` (the newest epoch of a checkpoint folder), the default of
    ATOM-EBM trackers, or None for a tracker without a network checkpoint."""
    if tracker in _ATOM_EBM_TRACKERS:
        from trackers.atom_ebm.weights import resolve_checkpoint

        checkpoint = resolve_checkpoint(checkpoint)
    if checkpoint is None:
        return None
    from ltr.admin.loading import resolve_checkpoint_path  # here: it loads torch

    return resolve_checkpoint_path(checkpoint)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit(repo: Path = _REPO) -> str | None:
    """HEAD of ``repo`` when it is a git checkout with git installed, else None (e.g. an installed package)."""
    if not (repo / ".git").exists():
        return None
    try:
        result = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def library_versions() -> dict[str, str]:
    """Versions of the libraries that change boxes: torch, torchao (int8 graphs) and OpenCV (the model-based OpenCV
    trackers' boxes differ between OpenCV releases)."""
    import importlib.metadata

    import cv2
    import torch

    try:
        torchao = importlib.metadata.version("torchao")
    except importlib.metadata.PackageNotFoundError:
        torchao = None
    return {"torch": torch.__version__, "torchao": torchao, "opencv": cv2.__version__}


def command_line(prog: str, argv: list[str], info: RankInfo) -> str:
    """The shell command of this run: ``prog`` and ``argv``, or, under torchrun (which does not pass on its own
    arguments), ``torchrun --nproc-per-node N [--nnodes M] -m pytracking.run_tracker ...`` rebuilt from the ranks."""
    if not info.distributed:
        return " ".join([prog, shlex.join(argv)]) if argv else prog
    launcher = f"torchrun --nproc-per-node {info.local_world_size}"
    if info.num_nodes > 1:
        launcher += f" --nnodes {info.num_nodes}"
    return f"{launcher} -m pytracking.run_tracker {shlex.join(argv)}"


def run_info(*, prog: str, argv: list[str], tracker: str, param: str, checkpoint: str | None, dataset: str,
             split: str | None, seed: int, threads: int, device: str, info: RankInfo,
             precision: str | None = None) -> dict:
    """The ``run_info.json`` record of a run (see the module docstring); ``device``: rank 0's device;
    ``precision``: the ``--precision`` given (None: the parameter set's)."""
    network = checkpoint_file(tracker, checkpoint)
    return {
        "command": command_line(prog, argv, info),
        "argv": list(argv),
        "tracker": tracker,
        "param": param,
        "precision": precision,
        "checkpoint": None if network is None else str(network),
        "checkpoint_sha256": None if network is None else sha256_file(network),
        "dataset": dataset,
        "split": split,
        "seed": seed,
        "threads": threads,
        "device": device,
        "world_size": info.world_size,
        "git_commit": git_commit(),
        "versions": library_versions(),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def write_run_info(out_dir: str | os.PathLike, record: dict) -> Path:
    """Atomically write ``record`` to ``<out_dir>/run_info.json``; returns its path."""
    path = Path(out_dir) / RUN_INFO_FILE
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    return path


def read_run_info(result_dir: str | os.PathLike) -> tuple[dict | None, str | None]:
    """(contents of ``result_dir/run_info.json``, None), or (None, a note saying why there is none to show)."""
    path = Path(result_dir) / RUN_INFO_FILE
    if not path.is_file():
        return None, NO_RUN_INFO
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"{path}: unreadable ({error})"
    if not isinstance(info, dict):
        return None, f"{path}: not a JSON object"
    return info, None
