"""Time ``atom-ebm demo`` end to end and record its scores for the README.

    python benchmarks/bench_demo.py [--seed 0] [--param default] [--out benchmarks/results/demo_cpu.json]

Runs the demo (tracking, metrics, annotated video) into a temporary folder, as a user would, and writes its
``metrics.json`` plus the wall-clock seconds of the whole run (model loading included) to ``--out``.
``benchmarks/readme_tables.py`` turns that file into the README's demo line.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from ltr.utils.files import atomic_write_text
from pytracking.demo import run_demo

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "demo_cpu.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--param", default="default")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        summary = run_demo(Path(folder), device=args.device, param=args.param, seed=args.seed)
        summary["wall_seconds"] = round(time.perf_counter() - start, 1)
    summary.update(device=args.device, threads=torch.get_num_threads())
    atomic_write_text(args.out, json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
