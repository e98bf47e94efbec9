"""A fully trained ATOM next to ours on the selection set's OTB clips: AUC, OP75 and size ratio per sequence.

    python experiments/atom_anchor_selection.py --atom-dir DIR --sweep SWEEP.json [--data-root DIR] [--json OUT.json]

``DIR`` holds raw OTB100 results of a tracker run at the full frame rate, one ``<sequence>.txt`` per sequence (x,y,w,h
per source frame, 1-based, any case of the name), e.g. pytracking's ATOM in ``OTB100/ATOM/`` of GitHub
Soarkey/tracking_raw_results. The selection set's OTB clips (sports and OTB domains) are every k-th source frame
(``../shared/data/train/MANIFEST.tsv``), so clip frame i is source frame k * i + 1 (``SOURCE_FRAME_STEP``); the raw
rows at those frames are scored against the clip's ground truth with the evaluation metrics (pytracking protocol).
``SWEEP.json`` is a result of ``experiments/sweep_parameters.py``: its first setting is the comparison. The raw
tracker saw every source frame, ours only the clip's, so the raw tracker has the easier task.

Size ratio: the median over frames 2.. of sqrt(predicted area / true area) (ours: the sweep's, on frames whose centre
is right). Sequences the trained networks saw are marked: they flatter ours.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ltr.admin.paths import resolve_dataset_root
from ltr.train_settings.datasets import selection_sequences
from ltr.utils.files import atomic_write_text
from pytracking.analysis.metrics import one_based, sequence_metrics

SOURCE_FRAME_STEP = {"Bolt": 4, "Diving": 4, "Gym": 26, "Skiing": 2, "Dog": 5, "Singer1": 12, "Vase": 10,
                     "Freeman1": 4, "Walking2": 6}
"""Source frames between two frames of each OTB clip of the selection set (MANIFEST notes: source step x shared-copy
step); ball1 (sports) is a VOT clip and has no OTB100 raw results."""

TRAINED_ON = frozenset({"Bolt", "Diving", "Skiing", "Freeman1", "Walking2"})
"""The clips the bundled IoU-Net trained on (first-batch OTB)."""


def raw_boxes(atom_dir: Path, name: str) -> np.ndarray:
    """The raw results of sequence ``name`` in ``atom_dir`` (file name matched without case), float [N, 4]."""
    matches = [p for p in atom_dir.glob("*.txt") if p.stem.lower() == name.lower()]
    if not matches:
        raise FileNotFoundError(f"{atom_dir}: no results file for {name} ({name.lower()}.txt)")
    return np.loadtxt(matches[0], delimiter=",", ndmin=2)


def clip_rows(raw: np.ndarray, step: int, num_frames: int, name: str) -> np.ndarray:
    """The raw rows of source frames 1, 1 + step, ... (``num_frames`` of them)."""
    index = np.arange(num_frames) * step
    if index[-1] >= len(raw):
        raise ValueError(f"{name}: {len(raw)} result rows, the clip needs source frame {index[-1] + 1}")
    return raw[index]


def median_size_ratio(pred: np.ndarray, gt: np.ndarray) -> float:
    """Median over frames 2.. of sqrt(predicted area / true area)."""
    return float(np.median(np.sqrt(pred[1:, 2] * pred[1:, 3] / (gt[1:, 2] * gt[1:, 3]))))


def compare(atom_dir: Path, sweep: dict, data_root: Path) -> dict[str, dict]:
    """Per sequence: the raw tracker's and our AUC, OP75 and size ratio, and whether our IoU-Net trained on it."""
    ours = sweep["results"][0]["per_sequence"]
    domains = selection_sequences(data_root, ("sports", "otb"))
    rows = {}
    for sequence in (s for group in domains.values() for s in group if s.name in SOURCE_FRAME_STEP):
        gt = one_based(sequence.ground_truth, sequence.box_origin)
        pred = clip_rows(raw_boxes(atom_dir, sequence.name), SOURCE_FRAME_STEP[sequence.name], len(gt), sequence.name)
        metrics = sequence_metrics(pred, gt, dataset="otb")
        mine = ours[sequence.name]
        rows[sequence.name] = {
            "anchor": {"auc": metrics["auc"], "op75": metrics["op75"], "size_ratio": median_size_ratio(pred, gt)},
            "ours": {key: mine[key] for key in ("auc", "op75", "size_ratio")},
            "trained_on": sequence.name in TRAINED_ON,
        }
    return rows


def summary(rows: dict[str, dict]) -> dict[str, dict[str, float]]:
    """Mean AUC of both trackers over all sequences and over those our networks never trained on."""
    groups = {"all": list(rows), "never_trained_on": [n for n, r in rows.items() if not r["trained_on"]]}
    return {group: {who: float(np.mean([rows[n][who]["auc"] for n in names])) for who in ("anchor", "ours")}
            for group, names in groups.items() if names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atom-dir", type=Path, required=True, help="folder of raw OTB100 results (<sequence>.txt)")
    parser.add_argument("--sweep", type=Path, required=True, help="a sweep_parameters.py result JSON (first setting)")
    parser.add_argument("--data-root", default=None, help="local data root (default $ATOM_EBM_LOCAL_DATA)")
    parser.add_argument("--json", type=Path, default=None, help="write the comparison here")
    args = parser.parse_args(argv)
    try:
        sweep = json.loads(args.sweep.read_text())
        rows = compare(args.atom_dir, sweep, Path(resolve_dataset_root("local", args.data_root)))
    except (OSError, ValueError, KeyError) as error:
        print(f"atom_anchor_selection: {error}", file=sys.stderr)
        return 2
    print(f"{'sequence':10s} {'anchor AUC':>10s} {'OP75':>5s} {'size':>5s} | {'ours AUC':>8s} {'OP75':>5s} {'size':>5s}")
    for name, row in rows.items():
        a, o = row["anchor"], row["ours"]
        mark = " (trained on)" if row["trained_on"] else ""
        print(f"{name:10s} {a['auc']:10.1f} {a['op75']:5.1f} {a['size_ratio']:5.2f} | "
              f"{o['auc']:8.1f} {o['op75']:5.1f} {o['size_ratio']:5.2f}{mark}")
    means = summary(rows)
    for group, mean in means.items():
        print(f"mean AUC, {group.replace('_', ' ')}: anchor {mean['anchor']:.1f}, ours {mean['ours']:.1f}")
    if args.json:
        record = {"atom_dir": str(args.atom_dir), "sweep": str(args.sweep), "setting": sweep["results"][0]["variant"],
                  "per_sequence": rows, "mean_auc": means}
        atomic_write_text(args.json, json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
