"""Run a tracker on a benchmark and write one result file per sequence.

    atom-ebm run TRACKER PARAM --dataset NAME [--dataset-root ROOT] [--split S]
        [--sequence S ...] [--workers N] [--results-dir DIR] [--checkpoint F] [--model-dir DIR] [--device D]
        [--seed 0] [--overwrite] [--debug]

(or ``python -m pytracking.run_tracker ...``).

Writes ``DIR/TRACKER/PARAM/<seq>.txt`` (x,y,w,h per frame) and ``<seq>_time.txt``; finished sequences are
skipped on a re-run. Failed sequences are listed in ``DIR/TRACKER/PARAM/failures.txt`` and make the exit
status 1; bad arguments or data (a tracker that does not build, too, with any ``--workers``) give a one-line error
and exit status 2, before any results folder is made.

NanoTrack v2 (OpenCV's TrackerNano) is ``opencv nanotrack``; its folder of ONNX files comes from ``--model-dir DIR``
or the ``NANOTRACK_MODEL_DIR`` environment variable (``--model-dir`` wins), e.g.

    python -m pytracking.run_tracker opencv nanotrack --model-dir DIR --dataset otb
"""
from __future__ import annotations

import argparse
import functools
import logging
import sys

from ltr.dataset.benchmarks import list_datasets, load_dataset
from ltr.utils.cli_errors import RUNTIME_ERROR, ArgumentParser, run_command
from pytracking.evaluation.runner import RunSpec, result_dir, run_dataset
from pytracking.utils.cli_checks import check_output_folder, parse_device
from trackers.opencv_baseline import NANOTRACK_BACKBONE_FILE, NANOTRACK_HEAD_FILE, NANOTRACK_MODEL_DIR_ENV
from trackers.registry import check_tracker_arguments

logger = logging.getLogger("pytracking.run_tracker")


PROG = "python -m pytracking.run_tracker"


def build_parser(prog: str = PROG) -> ArgumentParser:
    """Command-line interface (``prog``: how the command was called, shown in help and errors)."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("tracker", help="tracker name, e.g. atom_ebm or opencv")
    parser.add_argument("param", help="parameter set, e.g. default (atom_ebm) or csrt / kcf / nanotrack (opencv)")
    parser.add_argument("--dataset", required=True, help=f"one of: {', '.join(list_datasets())}")
    parser.add_argument("--dataset-root", default=None, help="data-set folder (default: its env var, e.g. UAV123_ROOT)")
    parser.add_argument("--split", default=None, help="data-set split (default: the evaluation split)")
    parser.add_argument("--sequence", nargs="+", default=None, help="run only these sequences")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes over sequences (default 1)")
    parser.add_argument("--results-dir", default="results", help="results root (default ./results)")
    parser.add_argument("--checkpoint", default=None, help="network checkpoint for the tracker")
    parser.add_argument(
        "--model-dir", default=None, metavar="DIR",
        help=f"model folder, only for opencv nanotrack: it must hold {NANOTRACK_BACKBONE_FILE} and {NANOTRACK_HEAD_FILE} "
             f"(default: ${NANOTRACK_MODEL_DIR_ENV}); giving it to any other tracker is a usage error (exit 2)",
    )
    parser.add_argument("--device", type=parse_device, default=None, help="cpu, cuda, cuda:N (default: CUDA when available)")
    parser.add_argument("--seed", type=int, default=0,
                        help="base seed: each sequence is seeded from it and its name, so a re-run gives the same "
                             "boxes (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="run finished sequences again")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    return parser


def _run(args: argparse.Namespace, prog: str) -> int:
    debug_logging = args.verbose or args.debug  # --debug: also the traceback of each failed sequence
    logging.basicConfig(level=logging.DEBUG if debug_logging else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    out_dir = result_dir(args.results_dir, args.tracker, args.param)
    check_output_folder("--results-dir", out_dir)
    # tracker arguments and data are checked here, run_dataset checks that the tracker builds: all before it writes
    check_tracker_arguments(args.tracker, args.param, args.checkpoint, model_dir=args.model_dir)
    sequences = load_dataset(args.dataset, args.dataset_root, split=args.split, sequences=args.sequence)
    spec = RunSpec(args.tracker, args.param, args.checkpoint, args.device, seed=args.seed, model_dir=args.model_dir)
    failures = run_dataset(spec, sequences, args.results_dir, workers=args.workers, overwrite=args.overwrite)
    if failures:
        print(
            f"{prog}: {len(failures)} of {len(sequences)} sequences failed ({', '.join(sorted(failures))}); "
            f"see {out_dir / 'failures.txt'}",
            file=sys.stderr,
        )
        return RUNTIME_ERROR
    logger.info("%d sequences done; results in %s", len(sequences), out_dir)
    return 0


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Entry point: 0 done, 2 bad arguments or data (one line on stderr), 1 failed sequences or a failure."""
    return run_command(build_parser(prog), argv, functools.partial(_run, prog=prog))


if __name__ == "__main__":
    sys.exit(main())
