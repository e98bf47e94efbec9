"""Sweep ATOM-EBM tracker parameters on real sequences: AUC / OP50 / precision per setting, mean over seeds.

    python benchmarks/sweep_parameters.py [--checkpoint F] [--param default] --sweep KEY=V1,V2 [--sweep ...]
        [--data LOADER:FOLDER:SEQ1,SEQ2 ...] [--data-root ../shared/data] [--seeds 3] [--max-frames 0]
        [--device cpu] [--json OUT.json]

Every combination of the ``--sweep`` values (Python literals, separated by the commas outside brackets; bare words
are strings) overrides the parameter set ``--param`` and runs on every sequence ``--seeds`` times (base seeds 0, 1,
...: each sequence is seeded from its name and the base seed as in ``pytracking.evaluation.runner``, so a re-run
with the same number of torch threads gives the same numbers). Scores use the
evaluation metrics (pytracking protocol). The default sequences are the real ones the bundled model was trained on
(OTB Crossing, UAV123@10fps wakeboard7): choose settings there and keep the held-out sequences for the final test.

Example, the S1 normalisation and step lengths (docs/RESULTS.md):
    python benchmarks/sweep_parameters.py --checkpoint EBM_ep5.pth --param always_refine --seeds 1 \\
        --data otb:sequences/otb:Crossing --sweep box_normalization=own,first \\
        --sweep step_length_center=2e-4,2e-3 --sweep step_length_size=1e-3,1e-2
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ltr.admin.loading import load_network
from ltr.admin.paths import DEFAULT_LOCAL_DATA
from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.files import atomic_write_text
from ltr.utils.device import resolve_device
from pytracking.analysis.metrics import dataset_metrics, sequence_metrics
from pytracking.evaluation.runner import run_sequence, seed_sequence
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import parse_value, with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import resolve_checkpoint

TRAINING_SEQUENCES = ["otb:sequences/otb:Crossing", "uav123_10fps:uav123_10fps_mini:wakeboard7"]


def split_values(text: str) -> list[str]:
    """Split ``text`` at the commas outside brackets: ``"(1, 2),()"`` -> ``["(1, 2)", "()"]``."""
    values, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth == 0:
            values.append(text[start:index])
            start = index + 1
    return values + [text[start:]]


def parse_grid(items: list[str]) -> list[dict[str, object]]:
    """``["a=1,2", "b=x"]`` -> [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}] (every combination, in the given order)."""
    axes = []
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key or not values:
            raise ValueError(f"--sweep expects KEY=V1,V2,..., got {item!r}")
        axes.append([(key, parse_value(value)) for value in split_values(values)])
    return [dict(point) for point in itertools.product(*axes)]


def load_sequences(specs: list[str], data_root: Path) -> list[Sequence]:
    """``LOADER:FOLDER:SEQ1,SEQ2`` (FOLDER relative to ``data_root``) -> the named sequences."""
    sequences = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ValueError(f"--data expects LOADER:FOLDER:SEQ1,SEQ2, got {spec!r}")
        loader, folder, names = parts
        sequences += load_dataset(loader, data_root / folder, sequences=names.split(","))
    return sequences


def first_frames(sequence: Sequence, count: int) -> Sequence:
    """The first ``count`` frames of ``sequence``."""
    visible = sequence.target_visible
    return Sequence(sequence.name, list(sequence.frames[:count]), sequence.ground_truth[:count], sequence.dataset,
                    target_visible=None if visible is None else visible[:count],
                    object_class=sequence.object_class, box_origin=sequence.box_origin)


def evaluate(tracker: AtomEbmTracker, sequences: list[Sequence], seed: int) -> dict:
    """Metrics over ``sequences`` for one base seed, plus the AUC of each sequence."""
    per_sequence = {}
    for sequence in sequences:
        seed_sequence(sequence.name, seed)
        boxes, _, _ = run_sequence(tracker, sequence)
        ground_truth = sequence.ground_truth[:len(boxes)]
        # NaN rows (target absent, e.g. in procedural sequences) are scored as in UAV123: a miss for every tracker
        dataset = "uav123" if np.isnan(ground_truth).any() else sequence.dataset
        per_sequence[sequence.name] = sequence_metrics(boxes, ground_truth, dataset=dataset,
                                                       target_visible=sequence.target_visible)
    metrics = dataset_metrics(per_sequence.values())
    return {"auc": metrics["auc"], "op50": metrics["op50"], "precision": metrics["precision"],
            "per_sequence_auc": {name: m["auc"] for name, m in per_sequence.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="network (default: the bundled model)")
    parser.add_argument("--param", default="default", help="parameter set the sweep overrides")
    parser.add_argument("--sweep", nargs="+", action="extend", required=True, metavar="KEY=V1,V2",
                        help="parameter values to combine, e.g. learning_rate=0.01,0.03")
    parser.add_argument("--data", nargs="+", action="extend", metavar="LOADER:FOLDER:SEQS",
                        help=f"sequences (default: {' '.join(TRAINING_SEQUENCES)})")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_LOCAL_DATA)
    parser.add_argument("--seeds", type=int, default=3, help="runs per setting (base seeds 0..N-1)")
    parser.add_argument("--max-frames", type=int, default=0, help="use only the first N frames (0 = all)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        base = get_parameters(args.param)
        grid = [(point, with_overrides(base, point)) for point in parse_grid(args.sweep)]
        device = resolve_device(args.device)
        sequences = load_sequences(args.data or TRAINING_SEQUENCES, args.data_root)
        net = load_network(resolve_checkpoint(args.checkpoint), device)
    except (FileNotFoundError, ValueError) as error:
        print(f"sweep_parameters: error: {error}", file=sys.stderr)
        return 2
    if args.seeds < 1:
        print(f"sweep_parameters: error: --seeds must be >= 1, got {args.seeds}", file=sys.stderr)
        return 2
    if args.max_frames:
        sequences = [first_frames(sequence, args.max_frames) for sequence in sequences]
    names = [sequence.name for sequence in sequences]
    print(f"| {args.param} + | AUC | AUC per run | OP50 | Precision | " + " | ".join(f"AUC {n}" for n in names) + " |")
    print("|---" * (5 + len(names)) + "|")
    results = []
    for point, params in tqdm(grid, desc="settings", unit="setting"):
        tracker = AtomEbmTracker(net, params, device)
        runs = [evaluate(tracker, sequences, seed) for seed in range(args.seeds)]
        row = {"setting": point, "auc_per_run": [run["auc"] for run in runs],
               **{key: float(np.mean([run[key] for run in runs])) for key in ("auc", "op50", "precision")},
               "per_sequence_auc": {n: float(np.mean([run["per_sequence_auc"][n] for run in runs])) for n in names}}
        results.append(row)
        label = ", ".join(f"{key}={value}" for key, value in point.items())
        per_run = " / ".join(f"{auc:.1f}" for auc in row["auc_per_run"])
        per_sequence = " | ".join(f"{row['per_sequence_auc'][n]:.1f}" for n in names)
        tqdm.write(f"| {label} | {row['auc']:.1f} | {per_run} | {row['op50']:.1f} | {row['precision']:.1f} | {per_sequence} |")
    if args.json:
        atomic_write_text(args.json, json.dumps({"param": args.param, "sequences": names, "seeds": args.seeds,
                                                 "results": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
