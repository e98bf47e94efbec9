"""The first-frame self-check's gain and decision per sequence and seed (``trackers.atom_ebm.refinement_check``).

    python experiments/self_check.py [--checkpoint F] [--param default] [--seeds 5] [--data-root DIR]

For every real sequence under the local data root (Crossing and wakeboard7, the bundled model's validation sequences, the
held-out Couple, Football1 and person9) the tracker is initialised ``--seeds`` times (each seeded from the sequence
name and the seed, as the runner does) and the check's mean IoU gain, its standard error and the decision are
printed. Compare with the one-frame gain on later frames (``experiments/refinement_transfer.py``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ltr.admin.loading import load_network
from ltr.admin.paths import resolve_dataset_root
from ltr.dataset.benchmarks import load_dataset
from ltr.utils.image_io import read_image
from pytracking.evaluation.runner import seed_sequence
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import resolve_checkpoint

REAL_SEQUENCES = (("otb", "sequences/otb", ["Crossing", "Couple", "Football1"]),
                  ("uav123_10fps", "uav123_10fps_mini", ["wakeboard7", "person9"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="network (default: the bundled model)")
    parser.add_argument("--param", default="default", help="parameter set (needs refinement_check_boxes > 0)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data-root", type=Path, help="local data root (default: $ATOM_EBM_LOCAL_DATA)")
    args = parser.parse_args(argv)
    try:
        params = get_parameters(args.param)
        if not params.refinement_check_boxes or params.refinement == "none":
            raise ValueError(f"parameter set {args.param} has no first-frame self-check")
        sequences = [s for loader, folder, names in REAL_SEQUENCES
                     for s in load_dataset(loader, resolve_dataset_root("local", args.data_root) / folder, sequences=names)]
        tracker = AtomEbmTracker(load_network(resolve_checkpoint(args.checkpoint), "cpu"), params, "cpu")
    except (FileNotFoundError, ValueError) as error:
        print(f"self_check: error: {error}", file=sys.stderr)
        return 2
    print("| sequence | " + " | ".join(f"seed {seed}" for seed in range(args.seeds)) + " | refinement on |")
    print("|---" * (args.seeds + 2) + "|")
    for sequence in sequences:
        image = read_image(sequence.frames[0])
        box = sequence.ground_truth[0] - [sequence.box_origin, sequence.box_origin, 0.0, 0.0]
        cells, num_on = [], 0
        for seed in range(args.seeds):
            seed_sequence(sequence.name, seed)
            tracker.initialize(image, box)
            check = tracker.refinement_check
            num_on += check.refinement_helps
            cells.append(f"{check.iou_after - check.iou_before:+.3f} ± {check.gain_std_error:.3f}")
        print(f"| {sequence.name} | " + " | ".join(cells) + f" | {num_on}/{args.seeds} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
