"""Live tracking demo: draw a box with the mouse, then watch it being tracked.

    python -m pytracking.run_webcam [--camera 0 | --source FILE] [--init-box X Y W H] [--save-video FILE]
                                    [--save-boxes FILE] [--max-frames N] [--no-display]
                                    [--tracker T] [--param P] [--checkpoint F] [--device D]

Select the target by clicking two opposite corners (click-click) or by dragging; any corner order works.
Keys: ``space`` pause / resume, ``r`` re-select the target, ``q`` (or Esc) quit. ``--source`` plays a video file
(at its own frame rate) instead of the camera and holds the current frame while a box is being drawn.
``--init-box`` starts tracking on the first frame; with it the demo also runs without a window (``--no-display``,
or automatically when OpenCV has no GUI or there is no display), e.g. on a server with ``--save-video``.
The window needs a GUI build of OpenCV (``pip install opencv-contrib-python``) and a display.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import math
import sys
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ltr.utils.box_io import save_boxes
from ltr.utils.cli_errors import INTERRUPTED, OK, ArgumentParser, run_command, working
from pytracking.utils.cli_checks import (
    add_precision_argument,
    check_output_file,
    parse_device,
)
from pytracking.utils.video_io import (
    DEFAULT_FPS,
    GUI_HELP,
    VideoWriter,
    gui_available,
    open_camera,
    open_video,
)
from pytracking.webcam_app import WebcamApp
from pytracking.webcam_display import Box, NoDisplay, OpenCVDisplay
from trackers.base import validate_init_box
from trackers.registry import build_tracker, check_tracker_arguments

logger = logging.getLogger("pytracking.run_webcam")

NO_BOX = (math.nan,) * 4


class StreamRecorder:
    """``--save-video`` / ``--save-boxes``: one annotated frame and one box row per source frame.

    Box rows are ``x,y,w,h`` like ``run_video``'s, NaN for frames shown while no target was selected. Outputs
    appear only on ``finish``; ``close`` before that discards the partial video.
    """

    def __init__(self, video_path: str | None, boxes_path: str | None, fps: float, frame_size: tuple[int, int]):
        self.writer = VideoWriter(Path(video_path), fps, frame_size) if video_path else None
        self.boxes_path = boxes_path
        self.boxes: list[Sequence[float]] = []

    def add(self, canvas: np.ndarray, box: Box | None) -> None:
        """Record one source frame's rendering and box."""
        if self.writer is not None:
            self.writer.write(canvas)
        self.boxes.append(NO_BOX if box is None else box)

    def finish(self) -> None:
        """Move the video into place and write the boxes."""
        if self.writer is not None:
            self.writer.close(keep=True)
            self.writer = None
            logger.info("wrote %d frames to the video", len(self.boxes))
        if self.boxes_path:
            save_boxes(self.boxes_path, np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4))

    def close(self) -> None:
        """Discard an unfinished video."""
        if self.writer is not None:
            self.writer.close(keep=False)
            self.writer = None


PROG = "python -m pytracking.run_webcam"


def build_parser(prog: str = PROG) -> ArgumentParser:
    """Command-line interface (``prog``: how the command was called, shown in help and errors)."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--camera", type=int, default=0, help="camera index (default 0)")
    parser.add_argument("--source", help="play this video file instead of the camera")
    parser.add_argument("--init-box", type=float, nargs=4, metavar=("X", "Y", "W", "H"),
                        help="track this box (0-based pixels) from the first frame instead of drawing one")
    parser.add_argument("--save-video", metavar="FILE", help="write the annotated stream here (MP4)")
    parser.add_argument("--save-boxes", metavar="FILE",
                        help="write one x,y,w,h line per frame here (nan while no target is selected)")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames of the source")
    parser.add_argument("--no-display", action="store_true", help="run without a window (needs --init-box)")
    parser.add_argument("--tracker", default="atom_ebm", help="registered tracker name (default: atom_ebm)")
    parser.add_argument("--param", default="default", help="parameter set (default: default)")
    parser.add_argument("--checkpoint",
                        help="network checkpoint (default: $ATOM_EBM_CHECKPOINT, then the bundled model)")
    parser.add_argument("--device", type=parse_device, help="cpu, cuda, cuda:N (default: cuda when available)")
    add_precision_argument(parser)
    return parser


def check_arguments(args: argparse.Namespace) -> None:
    """Cheap checks of everything the user gave, before any file, camera or model is opened."""
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be at least 1, got {args.max_frames}")
    if args.no_display and args.init_box is None:
        raise ValueError("--no-display needs --init-box X Y W H (there is no window to draw the box in)")
    check_output_file("--save-video", args.save_video)
    check_output_file("--save-boxes", args.save_boxes)
    check_tracker_arguments(args.tracker, args.param, args.checkpoint, precision=args.precision)


def use_window(args: argparse.Namespace) -> bool:
    """Whether to open a window: unless ``--no-display``; without a usable GUI only when ``--init-box`` is given."""
    if args.no_display:
        return False
    if gui_available():
        return True
    if args.init_box is None:
        raise ValueError(f"the webcam demo needs a window to draw the box in: {GUI_HELP}; "
                         "or give --init-box X Y W H to run without one")
    logger.warning("no window (%s); tracking without one", GUI_HELP)
    return False


def prepare(args: argparse.Namespace, cleanup: contextlib.ExitStack) -> tuple[WebcamApp, Iterable, StreamRecorder]:
    """Open the source, check the box against its first frame, open the outputs, build tracker and window."""
    check_arguments(args)
    window = use_window(args)
    source = open_video(args.source) if args.source else open_camera(args.camera)
    cleanup.callback(source.close)
    frames = iter(source)
    first = next(frames, None)
    if first is None:
        raise ValueError(f"cannot read a frame from {args.source or f'camera {args.camera}'}")
    init_box = validate_init_box(args.init_box, first.shape) if args.init_box is not None else None
    recorder = StreamRecorder(args.save_video, args.save_boxes, source.fps or DEFAULT_FPS,
                              (first.shape[1], first.shape[0]))
    cleanup.callback(recorder.close)
    tracker = build_tracker(args.tracker, param=args.param, checkpoint=args.checkpoint, device=args.device,
                            precision=args.precision)
    display = OpenCVDisplay() if window else NoDisplay()
    cleanup.callback(display.close)
    play_at_file_speed = window and args.source is not None and source.fps is not None
    app = WebcamApp(tracker, display, hold_while_selecting=args.source is not None,
                    frame_period=1.0 / source.fps if play_at_file_speed else None, init_box=init_box,
                    on_frame=recorder.add)
    return app, itertools.chain([first], frames), recorder


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.ExitStack() as cleanup:
        app, frames, recorder = prepare(args, cleanup)  # bad arguments or input: status 2
        status = OK
        with working():  # from here on any error is a failure while running: status 1
            try:
                app.run(frames, max_frames=args.max_frames)
            except KeyboardInterrupt:
                logger.info("interrupted; keeping what was recorded")
                status = INTERRUPTED
            recorder.finish()
        logger.info("stopped after %d frames, %d tracked", app.frame_index + 1, app.frames_tracked)
        return status


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Entry point: 0 done, 2 bad arguments or input (one line on stderr), 1 failure while running, 130 Ctrl+C."""
    return run_command(build_parser(prog), argv, _run)


if __name__ == "__main__":
    sys.exit(main())
