"""``atom-ebm``: one console entry point for the project's command-line tools.

Each subcommand forwards its arguments to the module's ``main(argv, prog)`` with ``prog`` ``atom-ebm COMMAND``, so
its help and errors name the command as typed (``atom-ebm track --help`` shows ``usage: atom-ebm track ...``; run
as ``python -m MODULE`` they show that form). Bare ``atom-ebm`` (or ``--help``) prints the command list.
"""
from __future__ import annotations

import importlib
import sys
from typing import Sequence

from ltr.utils.cli_errors import OK, USAGE_ERROR

PROG = "atom-ebm"
#: subcommand -> (module with main(argv, prog) -> int, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("pytracking.demo", "track the bundled sequence with the default model, write video and metrics"),
    "track": ("pytracking.run_video", "track a video file or image folder"),
    "webcam": ("pytracking.run_webcam", "live demo on a camera (or a video file with --source)"),
    "run": ("pytracking.run_tracker", "run a tracker on a benchmark data set (resumable)"),
    "report": ("pytracking.analysis.report", "AUC / OP50 / OP75 / precision table and plots from result files"),
    "pack-trackingnet": ("pytracking.util_scripts.pack_trackingnet_results", "zip TrackingNet test results for the server"),
    "train": ("ltr.run_training", "train the IoU-Net"),
    "export": ("ltr.admin.export", "write a training checkpoint as a compact tracking model (fp16, provenance JSON)"),
    "calibrate": ("ltr.admin.calibrate", "store an int8 calibration (from training frames) in a model file"),
    "average": ("ltr.admin.average", "average the weights of a network and its fine-tuned copy (a model soup)"),
}


def usage() -> str:
    """The command list printed by bare ``atom-ebm``."""
    width = max(map(len, COMMANDS))
    lines = [f"usage: {PROG} COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<{width}}  {description}" for name, (_, description) in COMMANDS.items()]
    lines += ["", f"'{PROG} COMMAND --help' lists the options of a command; --debug shows the traceback of an error."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``atom-ebm COMMAND ARGS...``; returns the exit status (an unknown command: one line, status 2)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return OK
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"{PROG}: error: unknown command '{command}'; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return USAGE_ERROR
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(rest, prog=f"{PROG} {command}"))


if __name__ == "__main__":
    sys.exit(main())
