"""Run a tracker on a benchmark and write one result file per sequence.

    atom-ebm run TRACKER PARAM --dataset NAME [--dataset-root ROOT] [--split S]
        [--sequence S ...] [--workers N] [--threads N] [--results-dir DIR] [--checkpoint F] [--model-dir DIR]
        [--device D] [--seed 0] [--overwrite] [--debug]

(or ``python -m pytracking.run_tracker ...``; over many processes and machines:
``torchrun --nproc-per-node N [--nnodes M --rdzv-backend c10d --rdzv-endpoint HOST:PORT] -m pytracking.run_tracker ...``,
see ``pytracking.evaluation.distributed``).

Writes ``DIR/TRACKER/PARAM/<seq>.txt`` (``PARAM_PRECISION`` with ``--precision``) (x,y,w,h per frame), ``<seq>_time.txt`` and ``run_info.json`` (command,
checkpoint and its SHA-256, commit); finished sequences are skipped on a re-run. At the end a summary table (AUC,
OP50, OP75, precision over the sequences with ground truth) is printed (by rank 0 under torchrun). Failed sequences
are listed in ``DIR/TRACKER/PARAM/failures.txt`` and make the exit status 1; bad arguments or data (a tracker that
does not build, too, with any ``--workers`` or under torchrun) give a one-line error and exit status 2, before any
results folder is made.

NanoTrack v2 (OpenCV's TrackerNano) is ``opencv nanotrack`` and VitTrack (OpenCV's TrackerVit) ``opencv vittrack``;
the folder of ONNX files comes from ``--model-dir DIR`` or the ``NANOTRACK_MODEL_DIR`` / ``VITTRACK_MODEL_DIR``
environment variable (``--model-dir`` wins), e.g.

    python -m pytracking.run_tracker opencv vittrack --model-dir DIR --dataset otb
"""
from __future__ import annotations

import argparse
import functools
import logging
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ltr.dataset.benchmarks import list_datasets, load_dataset
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.cli_errors import RUNTIME_ERROR, ArgumentParser, run_command, working
from pytracking.analysis.report import evaluate_tracker, format_table
from pytracking.evaluation.distributed import (
    RankInfo,
    barrier,
    process_group,
    rank_device,
    rank_info,
    rank_threads,
    run_dataset_distributed,
)
from pytracking.evaluation.run_info import run_info, write_run_info
from pytracking.evaluation.runner import RunSpec, result_dir, run_dataset
from pytracking.utils.cli_checks import (
    add_precision_argument,
    check_output_folder,
    parse_device,
)
from trackers.opencv_baseline import MODEL_KINDS
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
    parser.add_argument("--workers", type=int, default=1,
                        help="parallel processes over sequences (default 1; under torchrun each rank is one)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch and OpenCV threads per process (default: its share of the cores)")
    parser.add_argument("--results-dir", default="results", help="results root (default ./results)")
    parser.add_argument("--checkpoint", default=None, help="network checkpoint for the tracker")
    parser.add_argument(
        "--model-dir", default=None, metavar="DIR",
        help="model folder, only for opencv " + "; ".join(
            f"{name}: it must hold {' and '.join(kind.files)} (default: ${kind.env_var})"
            for name, kind in MODEL_KINDS.items()) + "; giving it to any other tracker is a usage error (exit 2)",
    )
    parser.add_argument("--device", type=parse_device, default=None, help="cpu, cuda, cuda:N (default: CUDA when available)")
    add_precision_argument(parser)
    parser.add_argument("--seed", type=int, default=0,
                        help="base seed: each sequence is seeded from it and its name, so a re-run gives the same "
                             "boxes (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="run finished sequences again")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    return parser


def _summary(label: str, sequences: list[Sequence], out_dir: Path, failures: dict[str, str]) -> str:
    """Counts of the run, the score table and the failures.

    Every sequence that did not fail is complete (finished before or in this run); the table scores those with
    ground truth after frame 0 (a failed one may have a stale partial file, which is not scored).
    """
    with_truth = [s for s in sequences if len(s.ground_truth) > 1 and not np.isnan(s.ground_truth[1:]).all()]
    overall, per_sequence, _ = evaluate_tracker([s for s in with_truth if s.name not in failures], out_dir, "pytracking")
    lines = [f"{label}: {len(sequences) - len(failures)} of {len(sequences)} sequences complete, "
             f"{len(failures)} failed in this run"]
    if with_truth:
        lines.append(format_table({label: overall}, {label: (len(per_sequence), len(with_truth))}))
    else:
        lines.append("no sequence has ground truth after the first frame (hidden test labels): nothing to score here")
    lines += [f"failed {name}: {failures[name]}" for name in sorted(failures)]
    return "\n".join(lines)


def _report(label: str, prog: str, sequences: list[Sequence], out_dir: Path, failures: dict[str, str]) -> None:
    """Print the summary to stdout and, when sequences failed, one line naming them to stderr."""
    with working():  # a result file that does not score is a failure of the run, not a bad argument
        print(_summary(label, sequences, out_dir, failures))
    if failures:
        print(f"{prog}: {len(failures)} of {len(sequences)} sequences failed ({', '.join(sorted(failures))}); "
              f"see {out_dir / 'failures.txt'}", file=sys.stderr)


def _check_arguments(args: argparse.Namespace, info: RankInfo) -> None:
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if info.distributed and args.workers > 1:
        raise ValueError(f"--workers {args.workers} cannot be combined with torchrun (WORLD_SIZE={info.world_size}): "
                         f"each torchrun process is one worker; set the process count with --nproc-per-node")


def _run(args: argparse.Namespace, prog: str, argv: list[str]) -> int:
    info = rank_info()
    debug_logging = args.verbose or args.debug  # --debug: also the traceback of each failed sequence
    rank_prefix = f"rank {info.rank} " if info.distributed else ""
    logging.basicConfig(level=logging.DEBUG if debug_logging else logging.INFO,
                        format=f"%(levelname)s {rank_prefix}%(name)s: %(message)s")
    _check_arguments(args, info)
    spec = RunSpec(args.tracker, args.param, args.checkpoint, seed=args.seed, model_dir=args.model_dir,
                   precision=args.precision)
    out_dir = result_dir(args.results_dir, args.tracker, spec.label)
    check_output_folder("--results-dir", out_dir)
    # tracker arguments and data are checked here, the runners check that the tracker builds: all before they write
    check_tracker_arguments(args.tracker, args.param, args.checkpoint, model_dir=args.model_dir,
                            precision=args.precision)
    sequences = load_dataset(args.dataset, args.dataset_root, split=args.split, sequences=args.sequence)
    device = rank_device(args.device, info.local_rank)
    threads = args.threads or rank_threads(info.local_world_size if info.distributed else args.workers)
    spec = replace(spec, device=device)

    def record_run() -> None:
        write_run_info(out_dir, run_info(prog=prog, argv=argv, tracker=args.tracker, param=args.param,
                                         precision=args.precision,
                                         checkpoint=args.checkpoint, dataset=args.dataset, split=args.split,
                                         seed=args.seed, threads=threads, device=device, info=info))

    if info.distributed:
        with process_group(info):
            failures = run_dataset_distributed(spec, sequences, args.results_dir, info, threads=threads,
                                               overwrite=args.overwrite, on_start=record_run)
            if info.rank == 0:
                _report(f"{args.tracker}/{spec.label}", prog, sequences, out_dir, failures)
            barrier()  # a rank that exits with an error makes torchrun stop the others: rank 0 reports first
    else:
        failures = run_dataset(spec, sequences, args.results_dir, workers=args.workers, overwrite=args.overwrite,
                               threads=threads, on_start=record_run)
        _report(f"{args.tracker}/{spec.label}", prog, sequences, out_dir, failures)
    if failures:
        return RUNTIME_ERROR
    logger.info("%d sequences done; results in %s", len(sequences), out_dir)
    return 0


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Entry point: 0 done, 2 bad arguments or data (one line on stderr), 1 failed sequences or a failure."""
    argv = sys.argv[1:] if argv is None else list(argv)
    return run_command(build_parser(prog), argv, functools.partial(_run, prog=prog, argv=argv))


if __name__ == "__main__":
    sys.exit(main())
