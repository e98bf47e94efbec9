"""``atom-ebm``: one console entry point for the project's command-line tools.

Each subcommand forwards its arguments to the module's ``main`` (``atom-ebm track --help`` shows that tool's help).
"""
from __future__ import annotations

import importlib
import sys
from typing import Sequence

#: subcommand -> (module with main(argv) -> int, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("pytracking.demo", "track the bundled sequence with the default model, write video and metrics"),
    "track": ("pytracking.run_video", "track a video file or image folder"),
    "webcam": ("pytracking.run_webcam", "live demo on a camera (or a video file with --source)"),
    "run": ("pytracking.run_tracker", "run a tracker on a benchmark data set (resumable)"),
    "report": ("pytracking.analysis.report", "AUC / OP50 / OP75 / precision table and plots from result files"),
    "pack-trackingnet": ("pytracking.util_scripts.pack_trackingnet_results", "zip TrackingNet test results for the server"),
    "train": ("ltr.run_training", "train the IoU-Net (python -m ltr.run_training)"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: atom-ebm COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<{width}}  {description}" for name, (_, description) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"atom-ebm: unknown command '{command}'\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
