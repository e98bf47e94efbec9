"""EBM-vs-IoU-Net study: the same tracker with IoU-Nets trained by the EBM NLL and by IoU-MSE, on held-out sequences.

    python benchmarks/study_refinement.py --ebm-checkpoint F --iou-checkpoint G [--default-checkpoint H]
        [--out study_output] [--data-root ../shared/data] [--device cpu]

Variants (every one through the project's runner and analysis, pytracking protocol):

* ``EBM + S1``            EBM-trained IoU-Net, Algorithm S1 refinement (``atom_ebm/default``)
* ``IoU-MSE + fixed``     IoU-MSE-trained IoU-Net, ATOM-style fixed-step ascent (``atom_ebm/atom_baseline``, ATOM*)
* ``EBM + fixed``         EBM net with the fixed-step ascent      (separates training objective from refinement)
* ``IoU-MSE + S1``        IoU-MSE net with Algorithm S1
* ``no refinement``       the classifier box alone (``atom_ebm/no_refine``)
* ``OpenCV CSRT``         an outside reference point

Held-out sequences (never used for training): OTB Couple and Football1, UAV123@10fps person9. Each tracker run is
seeded from the sequence name, so a re-run gives the same numbers. Writes ``study.json``, ``success.png``,
``precision.png`` and the result files under ``--out``; prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from pytracking.analysis.metrics import dataset_metrics
from pytracking.analysis.plots import plot_curves
from pytracking.analysis.report import evaluate_tracker
from pytracking.evaluation.datasets import load_dataset
from pytracking.evaluation.runner import RunSpec, result_dir, run_dataset
from pytracking.utils.box_io import load_boxes
from pytracking.utils.files import atomic_write_text

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
#: (loader, sub-folder of the data root, sequence names)
HELD_OUT = (("otb", "sequences/otb", ["Couple", "Football1"]), ("uav123_10fps", "uav123_10fps_mini", ["person9"]))


def variants(ebm: str, iou: str, default: str | None) -> dict[str, RunSpec]:
    """Label -> what to run (``default``: also the bundled/default model with the default parameters)."""
    result = {"default model": RunSpec("atom_ebm", "default", default)} if default else {}
    return result | {
        "EBM + S1": RunSpec("atom_ebm", "default", ebm),
        "IoU-MSE + fixed": RunSpec("atom_ebm", "atom_baseline", iou),
        "EBM + fixed": RunSpec("atom_ebm", "atom_baseline", ebm),
        "IoU-MSE + S1": RunSpec("atom_ebm", "default", iou),
        "no refinement": RunSpec("atom_ebm", "no_refine", ebm),
        "OpenCV CSRT": RunSpec("opencv", "csrt"),
    }


def frames_per_second(out_dir: Path, names: list[str]) -> float:
    """Tracked frames per second over all sequences (the initialisation frame excluded)."""
    times = np.concatenate([load_boxes(out_dir / f"{name}_time.txt", num_columns=1)[1:, 0] for name in names])
    return float(len(times) / times.sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ebm-checkpoint", required=True)
    parser.add_argument("--iou-checkpoint", required=True)
    parser.add_argument("--default-checkpoint", help="also run this model (e.g. the bundled one) with the default parameters")
    parser.add_argument("--out", type=Path, default=Path("study_output"))
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    sequences = [s for loader, folder, names in HELD_OUT for s in load_dataset(loader, args.data_root / folder, sequences=names)]
    names = [s.name for s in sequences]
    summary: dict[str, dict] = {}
    for label, spec in variants(args.ebm_checkpoint, args.iou_checkpoint, args.default_checkpoint).items():
        spec = RunSpec(spec.tracker_name, spec.param, spec.checkpoint, args.device if spec.checkpoint else None)
        results = args.out / "results" / label.lower().replace(" + ", "_").replace(" ", "_").replace("-", "")
        failures = run_dataset(spec, sequences, results)
        if failures:
            print(f"study: {label} failed on {failures}", file=sys.stderr)
            return 1
        out_dir = result_dir(results, spec.tracker_name, spec.param)
        _, per_sequence, _ = evaluate_tracker(sequences, out_dir, "pytracking")
        metrics = dataset_metrics(per_sequence.values())
        metrics["fps"] = frames_per_second(out_dir, names)
        metrics["per_sequence_auc"] = {name: per_sequence[name]["auc"] for name in names}
        summary[label] = metrics

    plot_curves(summary, "success", args.out / "success.png", title="held-out")
    plot_curves(summary, "precision", args.out / "precision.png", title="held-out")
    jsonable = {label: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in m.items()} for label, m in summary.items()}
    atomic_write_text(args.out / "study.json", json.dumps({"sequences": names, "variants": jsonable}, indent=1) + "\n")
    print("| variant | AUC | OP50 | OP75 | Precision | " + " | ".join(f"AUC {n}" for n in names) + " | FPS |")
    print("|---" * (6 + len(names)) + "|")
    for label, m in summary.items():
        per = " | ".join(f"{m['per_sequence_auc'][n]:.1f}" for n in names)
        print(f"| {label} | {m['auc']:.1f} | {m['op50']:.1f} | {m['op75']:.1f} | {m['precision']:.1f} | {per} | {m['fps']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
