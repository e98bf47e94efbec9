"""Running a tracker over sequences: the per-sequence loop and the resumable, parallel data-set runner.

Result files (``<results_dir>/<tracker>/<param>/``):

* ``<seq>.txt``       one ``x,y,w,h`` float row per frame, in the data set's box convention; row 0 = the given box.
* ``<seq>_time.txt``  seconds spent in ``initialize`` / ``track`` per frame.
* ``failures.txt``    ``<seq>: <error>`` per failed sequence of the last run (absent when none failed).
* ``run_info.json``   how the run was made (``pytracking.evaluation.run_info``, via ``run_dataset``'s ``on_start``).

All files are written atomically; a sequence is skipped on a re-run only if its result file is complete. The same
loop runs in each torchrun process in ``pytracking.evaluation.distributed``.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from tqdm import tqdm

from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.box_io import load_boxes, save_boxes
from ltr.utils.cli_errors import USER_ERRORS, one_line
from ltr.utils.cpu import available_cores
from ltr.utils.files import atomic_write_text
from ltr.utils.image_io import read_image
from trackers.base import Tracker

logger = logging.getLogger(__name__)


def run_sequence(tracker: Tracker, sequence: Sequence, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Track ``sequence`` from its first-frame ground-truth box.

    The tracker works in 0-based pixels: ``sequence.box_origin`` is subtracted from the initial (x, y) and added
    back to every output, so the returned boxes use the data set's convention. A frame that cannot be read
    after the first one is logged as a warning and keeps the previous box (score 0).

    Args:
        tracker: any ``trackers.base.Tracker``.
        sequence: the video; ``sequence.init_box`` must be finite with positive size.
        progress: show a tqdm bar over the frames.

    Returns:
        boxes float64 [N, 4] (x, y, w, h; row 0 = the given box), times float64 [N] (seconds per frame),
        scores float64 [N] (tracker confidence; 1.0 for the given first frame).

    Raises:
        ValueError: empty sequence, invalid first box, unreadable first frame, or a non-finite tracker box.
    """
    num_frames = len(sequence)
    if num_frames == 0:
        raise ValueError(f"sequence {sequence.name}: no frames")
    init_box = np.asarray(sequence.init_box, dtype=np.float64)
    if not np.all(np.isfinite(init_box)) or init_box[2] <= 0 or init_box[3] <= 0:
        raise ValueError(f"sequence {sequence.name}: invalid first-frame box {init_box.tolist()}")
    offset = np.array([sequence.box_origin, sequence.box_origin, 0.0, 0.0])
    boxes = np.zeros((num_frames, 4))
    times = np.zeros(num_frames)
    scores = np.zeros(num_frames)

    image = read_image(sequence.frames[0])
    start = time.perf_counter()
    tracker.initialize(image, (init_box - offset).tolist())
    times[0] = time.perf_counter() - start
    boxes[0] = init_box
    scores[0] = 1.0

    frames = range(1, num_frames)
    for index in tqdm(frames, desc=sequence.name, unit="frame", leave=False, disable=not progress):
        try:
            image = read_image(sequence.frames[index])
        except (OSError, ValueError) as error:
            logger.warning("sequence %s frame %d: %s; keeping the previous box", sequence.name, index, error)
            boxes[index] = boxes[index - 1]
            continue
        start = time.perf_counter()
        output = tracker.track(image)
        times[index] = time.perf_counter() - start
        box = np.asarray(output.box, dtype=np.float64).reshape(-1)
        if box.shape != (4,) or not np.all(np.isfinite(box)):
            raise ValueError(f"sequence {sequence.name} frame {index}: tracker returned an invalid box {output.box}")
        boxes[index] = box + offset
        scores[index] = float(output.score)
    return boxes, times, scores


def result_dir(results_dir: str | os.PathLike, tracker_name: str, param: str) -> Path:
    """``<results_dir>/<tracker_name>/<param>``."""
    return Path(results_dir) / tracker_name / param


def result_file(out_dir: str | os.PathLike, sequence_name: str) -> Path:
    """``<out_dir>/<sequence_name>.txt``."""
    return Path(out_dir) / f"{sequence_name}.txt"


def is_complete(out_dir: str | os.PathLike, sequence: Sequence) -> bool:
    """True when the result and time files of ``sequence`` exist and hold one finite row per frame."""
    boxes_path = result_file(out_dir, sequence.name)
    time_path = Path(out_dir) / f"{sequence.name}_time.txt"
    if not boxes_path.is_file() or not time_path.is_file():
        return False
    try:
        boxes = load_boxes(boxes_path)
    except ValueError as error:
        logger.warning("incomplete result %s (%s); running it again", boxes_path, error)
        return False
    if len(boxes) != len(sequence) or not np.all(np.isfinite(boxes)):
        logger.warning("incomplete result %s (%d rows for %d frames); running it again", boxes_path, len(boxes), len(sequence))
        return False
    return True


def save_results(out_dir: str | os.PathLike, sequence_name: str, boxes: np.ndarray, times: np.ndarray) -> None:
    """Atomically write ``<seq>_time.txt`` and then ``<seq>.txt`` (so a complete box file implies a time file)."""
    atomic_write_text(Path(out_dir) / f"{sequence_name}_time.txt", "".join(f"{t:.6f}\n" for t in times))
    save_boxes(result_file(out_dir, sequence_name), boxes, decimals=2)


def seed_sequence(sequence_name: str, base_seed: int = 0) -> None:
    """``seed_everything`` with a seed derived from the sequence name, so results do not depend on run order."""
    from ltr.trainers.rng import (
        seed_everything,  # here: it loads torch, which --help and listing do not need
    )

    seed_everything((zlib.crc32(sequence_name.encode("utf-8")) + base_seed) % (2**31))


@dataclass(frozen=True)
class RunSpec:
    """What to build in each worker: ``trackers.registry.build_tracker(tracker_name, param, checkpoint, device,
    model_dir=model_dir, precision=precision)``; results go to ``<results>/<tracker_name>/<label>``."""

    tracker_name: str
    param: str
    checkpoint: str | None = None
    device: str | None = None
    seed: int = 0  #: base seed: each sequence runs after ``seed_sequence(sequence.name, seed)``
    model_dir: str | None = None  #: model folder for trackers that load one (opencv nanotrack); None = not passed
    precision: str | None = None  #: backbone arithmetic of atom_ebm; None = the parameter set's

    @property
    def label(self) -> str:
        """The results folder's name: the parameter set, with the precision when one is given (``default_int8``)."""
        return self.param if self.precision is None else f"{self.param}_{self.precision}"

    def build(self) -> Tracker:
        """Build the tracker described by this spec (in the calling process)."""
        from trackers.registry import build_tracker

        return build_tracker(self.tracker_name, self.param, self.checkpoint, self.device, model_dir=self.model_dir,
                             precision=self.precision)


def _run_and_save(tracker: Tracker, sequence: Sequence, out_dir: Path, progress: bool, seed: int) -> str | None:
    """Run one sequence and save it; returns None or a one-line error (the traceback is logged)."""
    try:
        seed_sequence(sequence.name, seed)
        boxes, times, _ = run_sequence(tracker, sequence, progress=progress)
        save_results(out_dir, sequence.name, boxes, times)
        return None
    except Exception as error:  # one failing sequence must not stop the others
        message = describe_error(error)
        logger.error("sequence %s failed: %s", sequence.name, message, exc_info=logger.isEnabledFor(logging.DEBUG))
        return message


def describe_error(error: BaseException) -> str:
    """``Type: message`` on one line, as written to ``failures.txt``."""
    return f"{type(error).__name__}: {one_line(error)}"


_WORKER: dict[str, object] = {}


def set_threads(threads: int) -> None:
    """Run OpenCV, and torch where the tracker imported it, on ``threads`` threads (call after building the tracker).

    A process's share of the cores: left alone, every one of several processes would start one thread per core.
    """
    cv2.setNumThreads(threads)
    if "torch" in sys.modules:  # imported by the tracker, if it uses torch
        sys.modules["torch"].set_num_threads(threads)


def _init_worker(spec: RunSpec, out_dir: Path, log_level: int, threads: int) -> None:
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    _WORKER["out_dir"] = out_dir
    _WORKER["seed"] = spec.seed
    try:
        _WORKER["tracker"] = spec.build()
    except Exception as error:  # reported by _build_error / per sequence; raising here would respawn the worker forever
        logger.debug("building tracker %s/%s failed", spec.tracker_name, spec.param, exc_info=True)
        _WORKER["build_error"] = error
    set_threads(threads)


def _build_error() -> tuple[bool, str] | None:
    """In a worker: None when its tracker was built, else (whether the error is a bad argument, one-line message).

    Sent as plain values: the exception itself may not survive pickling back to the parent.
    """
    error = _WORKER.get("build_error")
    if error is None:
        return None
    return isinstance(error, USER_ERRORS), one_line(error)


def _worker_task(sequence: Sequence) -> tuple[str, str | None]:
    if "build_error" in _WORKER:
        return sequence.name, f"building the tracker failed: {describe_error(_WORKER['build_error'])}"  # type: ignore[arg-type]
    return sequence.name, _run_and_save(_WORKER["tracker"], sequence, _WORKER["out_dir"], False,  # type: ignore[arg-type]
                                        _WORKER["seed"])  # type: ignore[arg-type]


def pending(sequences: list[Sequence], out_dir: str | os.PathLike, overwrite: bool = False) -> list[Sequence]:
    """The sequences of ``sequences`` to run: all with ``overwrite``, else those without a complete result in ``out_dir``."""
    todo = [s for s in sequences if overwrite or not is_complete(out_dir, s)]
    skipped = len(sequences) - len(todo)
    if skipped:
        logger.info("%d of %d sequences already complete in %s", skipped, len(sequences), out_dir)
    return todo


def run_sequences(tracker: Tracker, sequences: list[Sequence], out_dir: str | os.PathLike, *, seed: int, desc: str,
                  position: int = 0, frame_progress: bool = True) -> dict[str, str]:
    """Run and save ``sequences`` one after the other in this process; returns failed name -> one-line error.

    ``desc`` / ``position``: label and terminal line of the tqdm bar over the sequences (one line per process when
    several share a terminal); ``frame_progress``: also a bar over each sequence's frames.
    """
    failures: dict[str, str] = {}
    bar = tqdm(total=len(sequences), desc=desc, unit="seq", position=position)
    for sequence in sequences:
        error = _run_and_save(tracker, sequence, Path(out_dir), progress=frame_progress, seed=seed)
        if error is not None:
            failures[sequence.name] = error
        bar.update()
    bar.close()
    return failures


def write_failures(out_dir: str | os.PathLike, failures: dict[str, str]) -> None:
    """Atomically write ``<out_dir>/failures.txt`` (``<seq>: <error>`` lines, sorted), or remove it when none failed."""
    failures_path = Path(out_dir) / "failures.txt"
    if failures:
        atomic_write_text(failures_path, "".join(f"{name}: {failures[name]}\n" for name in sorted(failures)))
    elif failures_path.exists():
        failures_path.unlink()


def run_dataset(
    spec: RunSpec,
    sequences: list[Sequence],
    results_dir: str | os.PathLike,
    *,
    workers: int = 1,
    overwrite: bool = False,
    threads: int | None = None,
    on_start: Callable[[], None] | None = None,
) -> dict[str, str]:
    """Run the tracker of ``spec`` on every sequence not yet complete and write the result files.

    Args:
        spec: tracker to build (once per worker process).
        sequences: the sequences to run.
        results_dir: results root; files go to ``<results_dir>/<tracker>/<param>/``.
        workers: number of processes (``spawn``), each running torch and OpenCV on its share of the cores; 1 runs in
            this process.
        overwrite: run finished sequences again.
        threads: torch / OpenCV threads per process; None: this process's are left alone, each of several workers
            gets its share of the cores.
        on_start: called once the tracker has built, before the first result is written (e.g. to record the run).

    Returns:
        Failed sequence name -> one-line error (also written to ``failures.txt``; the file is removed when empty).

    Raises:
        ValueError / FileNotFoundError: the tracker does not build from ``spec`` (bad argument); RuntimeError: a
        worker could not build it for another reason. Raised before anything is written: the results folder is
        made only by the first file written into it.
    """
    out_dir = result_dir(results_dir, spec.tracker_name, spec.label)  # made by the first file written into it
    todo = pending(sequences, out_dir, overwrite)
    failures: dict[str, str] = {}
    if todo and workers <= 1:
        tracker = spec.build()
        if threads is not None:
            set_threads(threads)
        if on_start is not None:
            on_start()
        failures = run_sequences(tracker, todo, out_dir, seed=spec.seed, desc=f"{spec.tracker_name}/{spec.label}")
    elif todo:
        context = multiprocessing.get_context("spawn")
        num_workers = min(workers, len(todo))
        threads = threads or max(1, available_cores() // num_workers)
        init_args = (spec, out_dir, logging.getLogger().getEffectiveLevel(), threads)
        with context.Pool(num_workers, initializer=_init_worker, initargs=init_args) as pool:
            build_error = pool.apply(_build_error)  # one worker's build: a bad argument fails them all alike
            if build_error is not None:
                pool.close()
                pool.join()
                bad_argument, message = build_error
                raise (ValueError if bad_argument else RuntimeError)(message)
            if on_start is not None:
                on_start()
            bar = tqdm(total=len(todo), desc=f"{spec.tracker_name}/{spec.label}", unit="seq")
            for name, error in pool.imap_unordered(_worker_task, todo):
                if error is not None:
                    failures[name] = error
                bar.update()
            pool.close()
            pool.join()  # let workers exit cleanly (terminate() would leak their semaphores)
            bar.close()
    elif on_start is not None:
        on_start()
    write_failures(out_dir, failures)
    return failures
