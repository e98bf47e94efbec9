"""Pack TrackingNet test results into the zip the evaluation server expects.

    atom-ebm pack-trackingnet TRACKER PARAM --results-dir DIR [--dataset-root ROOT] --out FILE.zip
        [--allow-partial] [--debug]

(or ``python -m pytracking.util_scripts.pack_trackingnet_results ...``).

The zip holds one ``<seq>.txt`` per test sequence at its root (no folder), comma-separated ``x,y,w,h`` rows
with two decimals. It refuses (exit status 2, one line listing the offenders) when a test sequence found under
the data-set root has no result file, a result file has the wrong number of rows (the number of frames in
``TEST/frames/<seq>``) or non-finite values, unless ``--allow-partial`` (then only the good files are packed).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from ltr.dataset.benchmarks import load_dataset
from ltr.utils.box_io import format_boxes, load_boxes
from ltr.utils.cli_errors import ArgumentParser, run_command
from ltr.utils.files import atomic_write
from pytracking.evaluation.runner import result_dir, result_file
from pytracking.utils.cli_checks import check_output_file

logger = logging.getLogger("pytracking.util_scripts.pack_trackingnet_results")


def _shorten(names: list[str], limit: int = 10) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def collect_results(results: Path, dataset_root: str | os.PathLike | None) -> tuple[dict[str, np.ndarray], list[str]]:
    """Check the result file of every TrackingNet test sequence.

    Returns:
        (sequence name -> boxes [N, 4] for the good files, one problem description per bad / missing file).
    """
    sequences = load_dataset("trackingnet", dataset_root, split="test")
    good: dict[str, np.ndarray] = {}
    missing, wrong_length, non_finite, malformed = [], [], [], []
    for sequence in sequences:
        path = result_file(results, sequence.name)
        if not path.is_file():
            missing.append(sequence.name)
            continue
        try:
            boxes = load_boxes(path)
        except ValueError as error:
            malformed.append(str(error))
            continue
        if len(boxes) != len(sequence):
            wrong_length.append(f"{sequence.name} ({len(boxes)} rows, {len(sequence)} frames)")
        elif not np.all(np.isfinite(boxes)):
            non_finite.append(sequence.name)
        else:
            good[sequence.name] = boxes
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing: {_shorten(missing)}")
    if wrong_length:
        problems.append(f"{len(wrong_length)} with the wrong number of rows: {_shorten(wrong_length)}")
    if non_finite:
        problems.append(f"{len(non_finite)} with non-finite values: {_shorten(non_finite)}")
    if malformed:
        problems.append(f"{len(malformed)} malformed: {_shorten(malformed, 3)}")
    return good, problems


def write_zip(path: str | os.PathLike, results: dict[str, np.ndarray]) -> None:
    """Atomically write a zip with ``<seq>.txt`` (``%.2f`` comma-separated rows) per sequence at its root."""

    def _write(tmp: str) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(results):
                archive.writestr(f"{name}.txt", format_boxes(results[name], decimals=2, delimiter=","))

    atomic_write(path, _write)


PROG = "python -m pytracking.util_scripts.pack_trackingnet_results"


def build_parser(prog: str = PROG) -> ArgumentParser:
    """Command-line interface (``prog``: how the command was called, shown in help and errors)."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("tracker")
    parser.add_argument("param")
    parser.add_argument("--results-dir", default="results", help="results root (default ./results)")
    parser.add_argument("--dataset-root", default=None, help="TrackingNet root (default: TRACKINGNET_ROOT)")
    parser.add_argument("--out", required=True, help="zip file to write")
    parser.add_argument("--allow-partial", action="store_true", help="pack the good files even if some are missing or bad")
    return parser


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not args.out.endswith(".zip"):
        raise ValueError(f"--out must name a .zip file, got {args.out}")
    check_output_file("--out", args.out, make_folders=True)
    results = result_dir(args.results_dir, args.tracker, args.param)
    good, problems = collect_results(results, args.dataset_root)
    if problems and not args.allow_partial:
        raise ValueError(f"refusing to pack {results}: " + "; ".join(problems) + " (use --allow-partial to pack anyway)")
    if not good:
        raise ValueError(f"no usable result files in {results}")
    for problem in problems:
        logger.warning("left out: %s", problem)
    write_zip(args.out, good)
    logger.info("packed %d sequences into %s", len(good), args.out)
    return 0


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Entry point: 0 done, 2 bad arguments or result files (one line on stderr), 1 a failure while writing."""
    return run_command(build_parser(prog), argv, _run)


if __name__ == "__main__":
    sys.exit(main())
