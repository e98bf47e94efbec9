"""Track one object through a video file or an image folder.

    atom-ebm track PATH [--init-box X Y W H] [--checkpoint F] [--param default] [--device D] [--seed 0]
                        [--save-boxes F] [--save-video F] [--show] [--tracker atom_ebm] [--model-dir DIR] [--debug]

(or ``python -m pytracking.run_video ...``). Two runs with the same ``--seed`` give the same boxes.

Boxes are 0-based (x, y, w, h) pixels, written one ``x,y,w,h`` line per frame (frame 0 = the initial box).
Without ``--init-box`` the box is drawn in an OpenCV window (needs a GUI build of OpenCV and a display).
Unreadable frames in the middle of an image folder are skipped with a warning and keep the previous box.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from tqdm import tqdm

from ltr.utils.box_io import format_boxes, save_boxes
from ltr.utils.cli_errors import ArgumentParser, run_command
from pytracking.utils.cli_checks import (
    add_precision_argument,
    check_output_file,
    parse_device,
)
from pytracking.utils.drawing import annotate
from pytracking.utils.prefetch import prefetched
from pytracking.utils.video_io import (
    DEFAULT_FPS,
    GUI_HELP,
    VideoWriter,
    gui_available,
    open_source,
)
from trackers.base import Tracker, validate_init_box
from trackers.registry import build_tracker

logger = logging.getLogger("pytracking.run_video")

WINDOW = "ATOM-EBM"


def select_box(image: np.ndarray) -> tuple[float, float, float, float]:
    """Let the user draw the initial box on ``image`` (RGB) with OpenCV's ROI selector."""
    if not gui_available():
        raise ValueError(f"no --init-box given and cannot show a window to draw one: {GUI_HELP}")
    x, y, w, h = cv2.selectROI(WINDOW, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), showCrosshair=True)
    cv2.destroyWindow(WINDOW)
    if w <= 0 or h <= 0:
        raise ValueError("no box selected")
    return float(x), float(y), float(w), float(h)


def track_video(path: str | os.PathLike, *, init_box: Sequence[float] | None = None, tracker_name: str = "atom_ebm",
                param: str = "default", checkpoint: str | None = None, device: str | None = None,
                save_boxes_path: str | os.PathLike | None = None, save_video_path: str | os.PathLike | None = None,
                show: bool = False, model_dir: str | os.PathLike | None = None, precision: str | None = None,
                tracker: Tracker | None = None, read_ahead: bool = True) -> np.ndarray:
    """Run a tracker over a video file / image folder and return the [N, 4] xywh boxes (one per frame).

    ``model_dir`` is the model folder of trackers that load one (``--tracker opencv --param nanotrack``),
    ``precision`` the backbone arithmetic of ``atom_ebm`` (None: the parameter set's).
    ``tracker``: an already built tracker to use instead of building one from ``tracker_name`` / ``param`` /
    ``checkpoint`` / ``device`` / ``model_dir`` (e.g. with overridden parameters). With ``read_ahead`` the next
    frames are decoded in a background thread while the current one is tracked.

    Raises:
        FileNotFoundError / ValueError: unreadable source, bad box, missing checkpoint, no display.
    """
    if show and not gui_available():
        raise ValueError(f"--show needs a window: {GUI_HELP}")
    source = open_source(path)
    frames = prefetched(source) if read_ahead else iter(source)
    try:
        first = next(frames, None)
        if first is None:
            raise ValueError(f"cannot read the first frame of {path}")
        box = validate_init_box(init_box, first.shape) if init_box is not None else select_box(first)
        if tracker is None:
            tracker = build_tracker(tracker_name, param=param, checkpoint=checkpoint, device=device,
                                    model_dir=model_dir, precision=precision)
        tracker.initialize(first, box)
        boxes = [box]
        writer = None
        if save_video_path is not None:
            fps = source.fps or DEFAULT_FPS
            writer = VideoWriter(Path(save_video_path), fps, (first.shape[1], first.shape[0]))
            writer.write(annotate(first, box))
        completed = False
        try:
            total = len(source) if hasattr(source, "__len__") else None
            last_frame = first
            fps_estimate = None
            for frame in tqdm(frames, total=None if total is None else total - 1, desc=source.name, unit="frame"):
                if frame is None or frame.shape != first.shape:
                    if frame is not None:
                        logger.warning("frame %d has size %s, expected %s; skipped", len(boxes),
                                       frame.shape[:2], first.shape[:2])
                    boxes.append(boxes[-1])
                    frame, score = last_frame, None
                else:
                    start = time.perf_counter()
                    output = tracker.track(frame)
                    elapsed = time.perf_counter() - start
                    fps_estimate = 1.0 / max(elapsed, 1e-6)
                    boxes.append(output.box)
                    score = output.score
                    last_frame = frame
                if writer is not None or show:
                    canvas = annotate(frame, boxes[-1], score, fps_estimate)
                    if writer is not None:
                        writer.write(canvas)
                    if show:
                        cv2.imshow(WINDOW, cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
                        if cv2.waitKey(1) & 0xFF == ord("q"):
                            break
            completed = True
        finally:
            if writer is not None:
                writer.close(keep=completed)
        result = np.asarray(boxes, dtype=np.float64)
        if save_boxes_path is not None:
            save_boxes(save_boxes_path, result)
        return result
    finally:
        if read_ahead:
            frames.close()
        source.close()
        if show:
            cv2.destroyAllWindows()


PROG = "python -m pytracking.run_video"


def build_parser(prog: str = PROG) -> ArgumentParser:
    """Command-line interface (``prog``: how the command was called, shown in help and errors)."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="video file or folder of images")
    parser.add_argument("--init-box", type=float, nargs=4, metavar=("X", "Y", "W", "H"),
                        help="initial box, 0-based pixels (default: draw it in a window)")
    parser.add_argument("--tracker", default="atom_ebm", help="registered tracker name (default: atom_ebm)")
    parser.add_argument("--param", default="default", help="parameter set (default: default)")
    parser.add_argument("--checkpoint", help="network checkpoint (default: $ATOM_EBM_CHECKPOINT, then the bundled model)")
    parser.add_argument("--device", type=parse_device, help="cpu, cuda, cuda:N (default: cuda when available)")
    parser.add_argument("--model-dir", metavar="DIR",
                        help="model folder, only for --tracker opencv --param nanotrack / vittrack (default: $NANOTRACK_MODEL_DIR / "
                             "$VITTRACK_MODEL_DIR); "
                             "an error for other trackers")
    add_precision_argument(parser)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of Python's, NumPy's and torch's generators: the same seed gives the same boxes "
                             "(default 0)")
    parser.add_argument("--save-boxes", metavar="FILE", help="write the boxes here, one 0-based x,y,w,h line per frame")
    parser.add_argument("--save-video", metavar="FILE", help="write an annotated MP4 here")
    parser.add_argument("--show", action="store_true", help="show the tracking live (needs a GUI build of OpenCV)")
    return parser


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    check_output_file("--save-boxes", args.save_boxes, make_folders=True)
    check_output_file("--save-video", args.save_video, make_folders=True)
    # ATOM-EBM seeds its proposals from torch's global generator: seed before the tracker is built and initialised
    from ltr.trainers.rng import (
        seed_everything,  # here, not at the top: it loads torch, which --help does not need
    )

    seed_everything(args.seed)
    boxes = track_video(args.path, init_box=args.init_box, tracker_name=args.tracker, param=args.param,
                        checkpoint=args.checkpoint, device=args.device, save_boxes_path=args.save_boxes,
                        save_video_path=args.save_video, show=args.show, model_dir=args.model_dir,
                        precision=args.precision)
    if args.save_boxes is None:
        sys.stdout.write(format_boxes(boxes))
    return 0


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Entry point; returns the exit status (bad input: one line on stderr, status 2; failure: 1)."""
    return run_command(build_parser(prog), argv, _run)


if __name__ == "__main__":
    sys.exit(main())
