"""Run a registered tracker as a TraX server, so that the official VOT toolkit (``vot-toolkit``) can evaluate it.

    python -m pytracking.integrations.vot_trax [--tracker atom_ebm] [--param default] [--checkpoint F]
                                               [--device D] [--model-dir DIR] [--seed 0]
    python -m pytracking.integrations.vot_trax --write-ini DIR [--name atom_ebm] [--timeout 300] [same options]

The first form is what the toolkit starts (protocol ``traxpython``): it talks TraX on stdin/stdout, so it is not
meant to be run by hand. The second writes (or updates) ``DIR/trackers.ini`` with an entry that starts the first
form with this interpreter and these options; run ``vot test NAME`` / ``vot evaluate NAME`` in ``DIR``.

Box conventions: TraX rectangles and the toolkit's ``vot.region.Rectangle`` are (x, y, width, height) with (x, y)
the top-left corner in 0-based pixels (the toolkit rasterises ``Rectangle(x, y, w, h)`` to columns x .. x + w - 1
of a 0-based mask), which is our trackers' convention too: rectangles pass through unchanged. A polygon (VOT's
rotated boxes) becomes its axis-aligned bounding box, as the toolkit's own ``Rectangle.convert`` makes it.
Images arrive as file paths (the toolkit sends nothing else) and are read as RGB uint8 by ``read_image``.
"""
from __future__ import annotations

import argparse
import configparser
import io
import math
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ltr.utils.cli_errors import ArgumentParser, one_line, run_command
from ltr.utils.files import atomic_write_text
from ltr.utils.image_io import read_image
from pytracking.utils.cli_checks import (
    add_precision_argument,
    check_output_folder,
    parse_device,
)
from trackers.base import Tracker
from trackers.registry import build_tracker, check_tracker_arguments

PROG = "python -m pytracking.integrations.vot_trax"
INSTALL_HINT = "the TraX bindings are not installed; run ./install.sh --vot"
#: the project root: the ``paths`` of the trackers.ini entry, so the toolkit finds the packages without an install
PROJECT_ROOT = Path(__file__).resolve().parents[2]
Box = tuple[float, float, float, float]


def region_to_box(region: Any) -> Box:
    """0-based (x, y, w, h) of a TraX region: a rectangle as it is, a polygon as its bounding box.

    ``ValueError`` for any other region type (masks, special codes), naming it.
    """
    import trax

    if isinstance(region, trax.Rectangle):
        x, y, width, height = region.bounds()
        return float(x), float(y), float(width), float(height)
    if isinstance(region, trax.Polygon):
        xs, ys = zip(*(region.get(i) for i in range(region.size())))
        return float(min(xs)), float(min(ys)), float(max(xs) - min(xs)), float(max(ys) - min(ys))
    raise ValueError(f"cannot track from a TraX {region} (rectangle or polygon regions only)")


def box_to_region(box: Sequence[float]) -> Any:
    """The TraX rectangle of a 0-based (x, y, w, h) box."""
    import trax

    x, y, width, height = (float(v) for v in box)
    return trax.Rectangle.create(x, y, width, height)


def read_color_image(images: dict) -> np.ndarray:
    """The colour channel of a TraX request (a file path image) as an RGB uint8 (H, W, 3) array."""
    import trax

    image = images.get(trax.ImageChannel.COLOR)
    if not isinstance(image, trax.FileImage):
        raise ValueError(f"expected a colour image given by its path, got {image} (channels: {sorted(images)})")
    return read_image(image.path())


def serve(tracker: Tracker, server: Any, seed: int = 0) -> int:
    """Answer the TraX requests of ``server`` (a ``trax.Server``) with ``tracker`` until the client quits.

    Every INITIALIZE re-seeds Python, NumPy and torch with ``seed`` (a re-initialised sequence tracks the same as
    a first one) and is answered with the given box; every FRAME with the tracked box and its score as the
    ``confidence`` property. Returns the number of frames answered.
    """
    import trax

    from ltr.trainers.rng import (
        seed_everything,  # here: it loads torch, which --help and --write-ini do not need
    )

    frames, initialized = 0, False
    while True:
        request = server.wait()
        if request.type == trax.TraxStatus.QUIT:
            return frames
        image = read_color_image(request.image)
        if request.type == trax.TraxStatus.INITIALIZE:
            if len(request.objects) != 1:
                raise ValueError(f"single-object tracker, got {len(request.objects)} objects to initialise")
            box = region_to_box(request.objects[0][0])
            seed_everything(seed)
            tracker.initialize(image, box)
            initialized = True
            server.status([(box_to_region(box), {})])
        elif not initialized:
            raise ValueError("the TraX client sent a frame before initialising the tracker")
        else:
            output = tracker.track(image)
            confidence = float(output.score) if math.isfinite(output.score) else 0.0
            server.status([(box_to_region(output.box), {"confidence": confidence})])
        frames += 1


def tracker_arguments(args: argparse.Namespace) -> list[str]:
    """The server's command-line arguments for the tracker options in ``args`` (paths made absolute)."""
    argv = ["--tracker", args.tracker, "--param", args.param, "--seed", str(args.seed)]
    if args.checkpoint is not None:
        argv += ["--checkpoint", str(Path(args.checkpoint).resolve())]
    if args.device is not None:
        argv += ["--device", args.device]
    if args.model_dir is not None:
        argv += ["--model-dir", str(Path(args.model_dir).resolve())]
    if args.precision is not None:
        argv += ["--precision", args.precision]
    return argv


def trackers_ini_entry(server_argv: Sequence[str], *, timeout: int, python: str = sys.executable) -> dict[str, str]:
    """The keys of a ``trackers.ini`` section (protocol ``traxpython``) that runs this server with ``server_argv``.

    ``command`` is Python code (the toolkit runs it as ``python -c``, after ``import sys``); ``python`` the
    interpreter that has this project; ``timeout`` the toolkit's limit in seconds for starting and for each frame.
    """
    return {
        "label": "ATOM-EBM",
        "protocol": "traxpython",
        "command": f"from pytracking.integrations.vot_trax import main; sys.exit(main({list(server_argv)!r}))",
        "paths": str(PROJECT_ROOT),
        "python": python,
        "timeout": str(timeout),
    }


def write_trackers_ini(folder: str | os.PathLike, name: str, entry: dict[str, str]) -> Path:
    """Add (or replace) section ``name`` of ``folder/trackers.ini``, keeping its other sections; atomic write."""
    path = Path(folder) / "trackers.ini"
    if any("%" in value for value in entry.values()):
        raise ValueError(f"--write-ini {folder}: the toolkit cannot read '%' in a trackers.ini value: {entry}")
    config = configparser.ConfigParser(interpolation=None)
    if path.is_file():
        try:
            config.read(path, encoding="utf-8")
        except configparser.Error as error:
            raise ValueError(f"{path}: not a valid trackers.ini ({one_line(error)})") from error
    config[name] = entry
    text = io.StringIO()
    config.write(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text.getvalue())
    return path


def _identifier(text: str) -> str:
    if not text or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a VOT tracker identifier (letters, digits, '-', '_')")
    return text


def build_parser(prog: str = PROG) -> ArgumentParser:
    parser = ArgumentParser(prog=prog, description="Serve a tracker to the VOT toolkit over TraX, or write the "
                                                   "toolkit's trackers.ini entry for it (--write-ini).")
    parser.add_argument("--tracker", default="atom_ebm", help="registered tracker name (default: atom_ebm)")
    parser.add_argument("--param", default="default", help="parameter set (default: default)")
    parser.add_argument("--checkpoint", help="network checkpoint (default: $ATOM_EBM_CHECKPOINT, then the bundled model)")
    parser.add_argument("--device", type=parse_device, help="cpu, cuda, cuda:N (default: cuda when available)")
    add_precision_argument(parser)
    parser.add_argument("--model-dir", metavar="DIR", help="model folder of trackers that load one (opencv nanotrack)")
    parser.add_argument("--seed", type=int, default=0, help="seed of Python's, NumPy's and torch's generators, "
                                                            "set at every initialisation (default: 0)")
    parser.add_argument("--write-ini", metavar="DIR", help="write DIR/trackers.ini (a VOT workspace) instead of serving")
    parser.add_argument("--name", type=_identifier, default="atom_ebm",
                        help="tracker identifier in trackers.ini (with --write-ini; default: atom_ebm)")
    parser.add_argument("--timeout", type=int, default=300,
                        help="seconds the toolkit waits for start-up and for each frame (with --write-ini; default: 300)")
    return parser


def _run(args: argparse.Namespace) -> int:
    check_tracker_arguments(args.tracker, args.param, args.checkpoint, model_dir=args.model_dir,
                            precision=args.precision)
    if args.write_ini is not None:
        if args.timeout < 1:
            raise ValueError(f"--timeout {args.timeout}: must be at least 1 second")
        check_output_folder("--write-ini", args.write_ini)
        entry = trackers_ini_entry(tracker_arguments(args), timeout=args.timeout)
        print(f"wrote [{args.name}] to {write_trackers_ini(args.write_ini, args.name, entry)}")
        return 0
    try:
        import trax
    except ImportError as error:
        raise RuntimeError(INSTALL_HINT) from error
    tracker = build_tracker(args.tracker, args.param, args.checkpoint, args.device, model_dir=args.model_dir,
                            precision=args.precision)
    server = trax.Server([trax.Region.RECTANGLE, trax.Region.POLYGON], [trax.Image.PATH],
                         tracker_name=args.tracker, tracker_description=f"{args.tracker} ({args.param})")
    try:
        serve(tracker, server, args.seed)
    except trax.TraxException as error:
        server.quit(reason=one_line(error))
        raise RuntimeError(f"{one_line(error)} (the VOT toolkit starts this server: see --write-ini)") from error
    except BaseException as error:
        server.quit(reason=one_line(error))
        raise
    server.quit()
    return 0


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Entry point; returns the exit status (bad input: one line on stderr, status 2; failure: 1)."""
    return run_command(build_parser(prog), argv, _run)


if __name__ == "__main__":
    sys.exit(main())
