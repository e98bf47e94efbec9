"""EBM-vs-IoU-Net study: the same tracker with IoU-Nets trained by the EBM NLL and by IoU-MSE, on held-out sequences.

    python benchmarks/study_refinement.py --ebm-checkpoint F --iou-checkpoint G [--default-checkpoint H]
        [--out study_output] [--data-root ../shared/data] [--device cpu] [--seeds 3] [--workers 1]
        [--variants LABEL ...] [--nanotrack-dir DIR]

Variants (every one through the project's runner and analysis, pytracking protocol):

* ``default model``       the bundled (or given) model with the default parameters: S1 after the first-frame self-check
* ``EBM + S1``            EBM-trained IoU-Net, Algorithm S1 refinement on every frame (``atom_ebm/always_refine``)
* ``IoU-MSE + fixed``     IoU-MSE-trained IoU-Net, ATOM-style fixed-step ascent (``atom_ebm/atom_baseline``, ATOM*)
* ``EBM + fixed``         EBM net with the fixed-step ascent      (separates training objective from refinement)
* ``IoU-MSE + S1``        IoU-MSE net with Algorithm S1 on every frame
* ``no refinement``       the classifier box alone (``atom_ebm/no_refine``), on the default model's backbone when
                          one is given (else the EBM net's), so that it differs from ``default model`` only in refinement
* ``OpenCV CSRT``         an outside reference point
* ``NanoTrack v2``        a strong fast Siamese tracker through ``cv2.TrackerNano`` (``opencv/nanotrack``), when its
                          model folder is found (``--nanotrack-dir``, ``$NANOTRACK_MODEL_DIR`` or ``../shared/peers``)

Held-out sequences (never used for training): OTB Couple and Football1, UAV123@10fps person9. Every variant runs
``--seeds`` times (base seeds 0, 1, ...; each sequence is seeded from its name and the base seed, so a re-run with
the same number of threads per process gives the same numbers); the table shows means over the runs and the AUC of
each run. Writes ``study.json``, ``success.png``, ``precision.png`` and the result files under ``--out``; prints a
Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ltr.admin.paths import DEFAULT_LOCAL_DATA
from ltr.dataset.benchmarks import load_dataset
from ltr.utils.box_io import load_boxes
from ltr.utils.files import atomic_write_text
from pytracking.analysis.metrics import dataset_metrics
from pytracking.analysis.plots import plot_curves
from pytracking.analysis.report import evaluate_tracker
from pytracking.evaluation.runner import RunSpec, result_dir, run_dataset

#: (loader, sub-folder of the data root, sequence names)
HELD_OUT = (("otb", "sequences/otb", ["Couple", "Football1"]), ("uav123_10fps", "uav123_10fps_mini", ["person9"]))


#: NanoTrack v2's ONNX pair next to the repository (``../shared/peers/nanotrack_v2``)
SHARED_NANOTRACK = DEFAULT_LOCAL_DATA.parent / "peers" / "nanotrack_v2"


def variants(ebm: str, iou: str, default: str | None, nanotrack_dir: str | None = None) -> dict[str, RunSpec]:
    """Label -> what to run (``default``: also the bundled/default model with the default parameters;
    ``nanotrack_dir``: also NanoTrack v2 from that folder)."""
    result = {"default model": RunSpec("atom_ebm", "default", default)} if default else {}
    nanotrack = {"NanoTrack v2": RunSpec("opencv", "nanotrack", model_dir=nanotrack_dir)} if nanotrack_dir else {}
    return result | {
        "EBM + S1": RunSpec("atom_ebm", "always_refine", ebm),
        "IoU-MSE + fixed": RunSpec("atom_ebm", "atom_baseline", iou),
        "EBM + fixed": RunSpec("atom_ebm", "atom_baseline", ebm),
        "IoU-MSE + S1": RunSpec("atom_ebm", "always_refine", iou),
        "no refinement": RunSpec("atom_ebm", "no_refine", default or ebm),
        "OpenCV CSRT": RunSpec("opencv", "csrt"),
    } | nanotrack


def frames_per_second(out_dir: Path, names: list[str]) -> float:
    """Tracked frames per second over all sequences (the initialisation frame excluded)."""
    times = np.concatenate([load_boxes(out_dir / f"{name}_time.txt", num_columns=1)[1:, 0] for name in names])
    return float(len(times) / times.sum())


def mean_over_runs(runs: list[dict]) -> dict:
    """Means of the scalar metrics, curves and per-sequence AUCs of several runs, plus ``auc_per_run``."""
    mean: dict = {"auc_per_run": [run["auc"] for run in runs]}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            mean[key] = {name: float(np.mean([run[key][name] for run in runs])) for name in value}
        elif isinstance(value, (int, float, np.ndarray)):
            mean[key] = np.mean([run[key] for run in runs], axis=0)
    return mean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ebm-checkpoint", required=True)
    parser.add_argument("--iou-checkpoint", required=True)
    parser.add_argument("--default-checkpoint", help="also run this model (e.g. the bundled one) with the default parameters")
    parser.add_argument("--out", type=Path, default=Path("study_output"))
    parser.add_argument("--data-root", type=Path, default=DEFAULT_LOCAL_DATA)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, default=3, help="runs per variant (base seeds 0..N-1)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes over sequences")
    parser.add_argument("--variants", nargs="+", metavar="LABEL",
                        help="run only these variants (labels as in the table, e.g. 'EBM + S1'); finished result files "
                             "are reused, so separate processes can share the work and a last call with all makes the table")
    parser.add_argument("--nanotrack-dir", default=os.environ.get("NANOTRACK_MODEL_DIR") or
                        (str(SHARED_NANOTRACK) if SHARED_NANOTRACK.is_dir() else None),
                        help="NanoTrack v2 model folder (default: $NANOTRACK_MODEL_DIR, else ../shared/peers/nanotrack_v2)")
    args = parser.parse_args(argv)
    selected = variants(args.ebm_checkpoint, args.iou_checkpoint, args.default_checkpoint, args.nanotrack_dir)
    unknown = sorted(set(args.variants or []) - set(selected))
    if unknown:
        print(f"study: error: unknown variant(s) {unknown}; valid: {', '.join(selected)}", file=sys.stderr)
        return 2
    if args.variants:
        selected = {label: spec for label, spec in selected.items() if label in args.variants}

    sequences = [s for loader, folder, names in HELD_OUT for s in load_dataset(loader, args.data_root / folder, sequences=names)]
    names = [s.name for s in sequences]
    summary: dict[str, dict] = {}
    for label, spec in selected.items():
        device = args.device if spec.checkpoint else None
        slug = label.lower().replace(" + ", "_").replace(" ", "_").replace("-", "")
        runs = []
        for seed in range(args.seeds):
            run_spec = replace(spec, device=device, seed=seed)
            results = args.out / "results" / slug / f"seed{seed}"
            failures = run_dataset(run_spec, sequences, results, workers=args.workers)
            if failures:
                print(f"study: {label} (seed {seed}) failed on {failures}", file=sys.stderr)
                return 1
            out_dir = result_dir(results, run_spec.tracker_name, run_spec.param)
            _, per_sequence, _ = evaluate_tracker(sequences, out_dir, "pytracking")
            metrics = dataset_metrics(per_sequence.values())
            metrics["fps"] = frames_per_second(out_dir, names)
            metrics["per_sequence_auc"] = {name: per_sequence[name]["auc"] for name in names}
            runs.append(metrics)
        summary[label] = mean_over_runs(runs)

    plot_curves(summary, "success", args.out / "success.png", title="held-out")
    plot_curves(summary, "precision", args.out / "precision.png", title="held-out")
    jsonable = {label: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in m.items()} for label, m in summary.items()}
    atomic_write_text(args.out / "study.json", json.dumps({"sequences": names, "variants": jsonable}, indent=1) + "\n")
    print("| variant | AUC | AUC per run | OP50 | OP75 | Precision | " + " | ".join(f"AUC {n}" for n in names) + " | FPS |")
    print("|---" * (7 + len(names)) + "|")
    for label, m in summary.items():
        per = " | ".join(f"{m['per_sequence_auc'][n]:.1f}" for n in names)
        runs = " / ".join(f"{auc:.1f}" for auc in m["auc_per_run"])
        print(f"| {label} | {m['auc']:.1f} | {runs} | {m['op50']:.1f} | {m['op75']:.1f} | {m['precision']:.1f} | {per} | "
              f"{m['fps']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
