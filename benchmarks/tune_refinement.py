"""Sweep the IoU-Net refinement settings of ATOM-EBM on real sequences and print the AUC per setting.

    python benchmarks/tune_refinement.py --checkpoint F [--dataset otb --root DIR] [--sequences A B]
        [--normalization own first] [--center-steps 2e-4 1e-3] [--size-steps 1e-3 5e-3] [--decay 0.5]
        [--num-iter 10] [--max-frames 0] [--seed 0] [--device cpu] [--include-baselines]

Every combination of box normalisation ("own": each box by its own size, as the EBM detection code; "first": all
boxes by the first box, as the reference tracker) and S1 step lengths (centre, size) runs the ``always_refine``
parameters with those values on every sequence (same seed for every setting) and is scored with the evaluation
metrics (AUC, OP50, precision; pytracking protocol). ``--include-baselines`` adds the ``atom_baseline`` and
``no_refine`` parameter sets. Needs a trained checkpoint: with random weights the numbers mean nothing.
"""
from __future__ import annotations

import argparse
import itertools
import logging
import sys
from pathlib import Path

from tqdm import tqdm

from ltr.admin.loading import load_network
from pytracking.analysis.metrics import dataset_metrics, sequence_metrics
from pytracking.evaluation.datasets import load_dataset
from pytracking.evaluation.runner import run_sequence
from pytracking.evaluation.sequence import Sequence
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import AtomEbmParams, with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker, resolve_device

SHARED_OTB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sequences" / "otb"


def settings(args: argparse.Namespace) -> list[tuple[str, AtomEbmParams]]:
    """(label, parameters) for every point of the sweep."""
    base = with_overrides(get_parameters("always_refine"), {"seed": args.seed, "step_decay": args.decay,
                                                            "num_iter": args.num_iter})
    result = []
    for norm, center, size in itertools.product(args.normalization, args.center_steps, args.size_steps):
        params = with_overrides(base, {"box_normalization": norm, "step_length_center": center,
                                       "step_length_size": size})
        result.append((f"S1 norm={norm} center={center:g} size={size:g}", params))
    if args.include_baselines:
        for name in ("atom_baseline", "no_refine"):
            result.append((name, with_overrides(get_parameters(name), {"seed": args.seed})))
    return result


def _first_frames(sequence: Sequence, count: int) -> Sequence:
    """The first ``count`` frames of ``sequence``."""
    visible = sequence.target_visible
    return Sequence(sequence.name, list(sequence.frames[:count]), sequence.ground_truth[:count], sequence.dataset,
                    target_visible=None if visible is None else visible[:count],
                    object_class=sequence.object_class, box_origin=sequence.box_origin)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="trained network checkpoint")
    parser.add_argument("--dataset", default="otb", help="data-set registry name (default otb)")
    parser.add_argument("--root", default=str(SHARED_OTB), help="data-set root (default: the shared OTB sequences)")
    parser.add_argument("--sequences", nargs="+", help="sequence names (default: all found)")
    parser.add_argument("--normalization", nargs="+", default=["own", "first"], choices=["own", "first"])
    parser.add_argument("--center-steps", nargs="+", type=float, default=[2e-4, 1e-3, 1e-2])
    parser.add_argument("--size-steps", nargs="+", type=float, default=[1e-3, 5e-3, 5e-2])
    parser.add_argument("--decay", type=float, default=0.5, help="S1 step decay for rejected steps")
    parser.add_argument("--num-iter", type=int, default=10, help="S1 iterations")
    parser.add_argument("--max-frames", type=int, default=0, help="use only the first N frames (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--include-baselines", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        device = resolve_device(args.device)
        sequences = load_dataset(args.dataset, root=args.root, sequences=args.sequences)
        net = load_network(args.checkpoint, device)
        grid = settings(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"tune_refinement: error: {error}", file=sys.stderr)
        return 2
    if args.max_frames:
        sequences = [_first_frames(seq, args.max_frames) for seq in sequences]
    print(f"{'setting':<44}{'AUC':>7}{'OP50':>7}{'Prec':>7}   ({len(sequences)} sequences, {args.dataset})")
    for label, params in tqdm(grid, desc="settings", unit="setting"):
        per_sequence = []
        for sequence in sequences:
            tracker = AtomEbmTracker(net, params, device)
            boxes, _, _ = run_sequence(tracker, sequence)
            ground_truth = sequence.ground_truth[: len(boxes)]
            per_sequence.append(sequence_metrics(boxes, ground_truth, dataset=sequence.dataset,
                                                 target_visible=sequence.target_visible))
        overall = dataset_metrics(per_sequence)
        tqdm.write(f"{label:<44}{overall['auc']:>7.1f}{overall['op50']:>7.1f}{overall['precision']:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
