"""The two-command demo: track the bundled sequence with the default model and write what a person looks at.

``atom-ebm demo [--output DIR] [--device D] [--checkpoint F] [--param P] [--precision P] [--seed 0] [--debug]``
writes to DIR
(default ``./demo_output``):

* ``boxes.txt``        predicted ``x,y,w,h`` per frame, 0-based pixels like every box file the tools write
* ``groundtruth.txt``  the bundled ground truth, same format (converted from OTB's 1-based file)
* ``demo.mp4``         annotated video: prediction (green), ground truth (red), confidence, FPS
* ``metrics.json``     auc, op50, op75, precision (percent, pytracking protocol), fps and the networks'
                       ``numeric_precision`` (fp32 / bf16 / int8)

Works headless and without a GPU. The same ``--seed`` gives the same boxes.
"""
from __future__ import annotations

import argparse
import importlib.resources
import json
import logging
import sys
from pathlib import Path
from typing import Sequence as SequenceType

import numpy as np
from tqdm import tqdm

from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.box_io import save_boxes
from ltr.utils.cli_errors import ArgumentParser, run_command, working
from ltr.utils.files import atomic_write_text
from ltr.utils.image_io import read_image
from pytracking.analysis.metrics import sequence_metrics
from pytracking.evaluation.runner import run_sequence, seed_sequence
from pytracking.utils.cli_checks import (
    add_precision_argument,
    check_output_folder,
    parse_device,
)
from pytracking.utils.drawing import annotate, draw_box
from pytracking.utils.video_io import VideoWriter
from trackers.registry import build_tracker

logger = logging.getLogger("pytracking.demo")

DEMO_SEQUENCE = "Couple"
GROUND_TRUTH_COLOR = (255, 0, 0)

#: frame rate of the annotated demo video (OTB sequences are image folders and carry none)
DEMO_VIDEO_FPS = 25.0


def demo_sequence() -> Sequence:
    """The bundled demo sequence (OTB *Couple*, held out from training)."""
    root = Path(str(importlib.resources.files("pytracking") / "demo_data"))
    return load_dataset("otb", root=root, sequences=[DEMO_SEQUENCE])[0]


def zero_based(boxes: np.ndarray, sequence: Sequence) -> np.ndarray:
    """``boxes`` in ``sequence``'s box convention -> 0-based pixels (the convention of the files the demo writes)."""
    return boxes - np.array([sequence.box_origin, sequence.box_origin, 0.0, 0.0])


def write_annotated_video(path: Path, sequence: Sequence, boxes: np.ndarray, ground_truth: np.ndarray,
                          scores: np.ndarray, times: np.ndarray, fps: float = DEMO_VIDEO_FPS) -> None:
    """Render predicted boxes (green), ground truth (red), both 0-based, confidence and per-frame FPS to an MP4."""
    writer = None
    try:
        for index in tqdm(range(len(sequence)), desc="video", unit="frame", leave=False):
            image = read_image(sequence.frames[index])
            if writer is None:
                writer = VideoWriter(path, fps, (image.shape[1], image.shape[0]))
            frame_fps = 1.0 / times[index] if index > 0 and times[index] > 0 else None
            canvas = annotate(image, boxes[index], float(scores[index]), frame_fps)
            if np.all(np.isfinite(ground_truth[index])):
                draw_box(canvas, ground_truth[index], GROUND_TRUTH_COLOR, thickness=1)
            writer.write(canvas)
    except BaseException:
        if writer is not None:
            writer.close(keep=False)
        raise
    if writer is not None:
        writer.close()


def run_demo(output: Path, *, device: str | None = None, checkpoint: str | None = None, param: str = "default",
             seed: int = 0, precision: str | None = None) -> dict:
    """Track the demo sequence, write the four output files, return the metrics dict.

    Bad arguments raise ``ValueError`` / ``FileNotFoundError`` (building the tracker); what fails after that is a
    ``RuntimeFailure``.
    """
    sequence = demo_sequence()
    tracker = build_tracker("atom_ebm", param=param, checkpoint=checkpoint, device=device, precision=precision)
    with working():
        seed_sequence(sequence.name, seed)  # the tracker draws random boxes: same seed as the benchmark runner
        boxes, times, scores = run_sequence(tracker, sequence, progress=True)
        metrics = sequence_metrics(boxes, sequence.ground_truth, dataset="otb")
        summary = {key: round(metrics[key], 2) for key in ("auc", "op50", "op75", "precision")}
        summary["fps"] = round(float((len(times) - 1) / max(times[1:].sum(), 1e-9)), 2)
        summary.update(sequence=sequence.name, frames=len(sequence), param=param, seed=seed,
                       numeric_precision=getattr(tracker, "precision", None))
        boxes, ground_truth = zero_based(boxes, sequence), zero_based(sequence.ground_truth, sequence)
        output.mkdir(parents=True, exist_ok=True)
        save_boxes(output / "boxes.txt", boxes)
        save_boxes(output / "groundtruth.txt", ground_truth)
        write_annotated_video(output / "demo.mp4", sequence, boxes, ground_truth, scores, times)
        atomic_write_text(output / "metrics.json", json.dumps(summary, indent=2) + "\n")
    return summary


PROG = "python -m pytracking.demo"


def build_parser(prog: str = PROG) -> ArgumentParser:
    """Command-line interface (``prog``: how the command was called, shown in help and errors)."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=Path("demo_output"), help="output folder (default ./demo_output)")
    parser.add_argument("--device", type=parse_device, default=None, help="cpu, cuda, cuda:N (default: cuda when available)")
    parser.add_argument("--checkpoint", default=None, help="network checkpoint (default: $ATOM_EBM_CHECKPOINT or the bundled model)")
    parser.add_argument("--param", default="default", help="tracker parameter set (default: default)")
    add_precision_argument(parser)
    parser.add_argument("--seed", type=int, default=0, help="base seed, as in atom-ebm run (default 0)")
    return parser


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    check_output_folder("--output", args.output)
    summary = run_demo(args.output, device=args.device, checkpoint=args.checkpoint, param=args.param, seed=args.seed,
                       precision=args.precision)
    print(f"sequence {summary['sequence']} ({summary['frames']} frames): AUC {summary['auc']:.1f}  "
          f"OP50 {summary['op50']:.1f}  OP75 {summary['op75']:.1f}  precision {summary['precision']:.1f}  "
          f"{summary['fps']:.1f} FPS")
    print(f"wrote {args.output}/boxes.txt, groundtruth.txt (0-based x,y,w,h), demo.mp4, metrics.json")
    return 0


def main(argv: SequenceType[str] | None = None, prog: str = PROG) -> int:
    """Entry point: 0 done, 2 bad arguments (one line on stderr), 1 a failure while tracking or writing."""
    return run_command(build_parser(prog), argv, _run)


if __name__ == "__main__":
    sys.exit(main())
