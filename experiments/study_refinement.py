"""EBM-vs-IoU-Net study: the same tracker with IoU-Nets trained by the EBM NLL and by IoU-MSE, next to outside
trackers, on held-out sequences and on the selection set.

    python experiments/study_refinement.py --ebm-checkpoint F --iou-checkpoint G [--default-checkpoint H]
        [--out study_output] [--data-root DIR] [--device cpu] [--seeds 3] [--workers 1]
        [--variants LABEL ...] [--sets held_out selection] [--nanotrack-dir DIR] [--vittrack-dir DIR]

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
                          model folder is found (``--nanotrack-dir``or ``$NANOTRACK_MODEL_DIR``)
* ``VitTrack``            a small transformer tracker through ``cv2.TrackerVit`` (``opencv/vittrack``), likewise
                          (``--vittrack-dir`` or ``$VITTRACK_MODEL_DIR``)

Sets: ``held_out`` (never used for training or for choosing parameters): OTB Couple and Football1, UAV123@10fps
person9; ``selection``: the selection set (``ltr.train_settings.datasets.SELECTION_SEQUENCES``), reported per domain,
where the parameters were chosen. Every variant runs ``--seeds`` times (base seeds 0, 1, ...; each sequence is seeded
from its name and the base seed, so a re-run with the same number of threads per process gives the same numbers);
the deterministic OpenCV trackers run once. The tables show means over the runs and the AUC of each run. Writes
``study.json``, ``success.png``, ``precision.png`` (held-out) and the result files under ``--out``; prints Markdown
tables. The OpenCV version is recorded: the model-based OpenCV trackers' boxes depend on it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ltr.admin.paths import resolve_dataset_root
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.train_settings.datasets import held_out_sequences, selection_sequences
from ltr.utils.box_io import load_boxes
from ltr.utils.files import atomic_write_text
from pytracking.analysis.metrics import (
    dataset_metrics,
    one_based,
    scoring_dataset,
    sequence_metrics,
)
from pytracking.analysis.plots import plot_curves
from pytracking.evaluation.run_info import library_versions
from pytracking.evaluation.runner import RunSpec, result_dir, run_dataset


def variants(ebm: str, iou: str, default: str | None, nanotrack_dir: str | None = None,
             vittrack_dir: str | None = None) -> dict[str, RunSpec]:
    """Label -> what to run (``default``: also the bundled/default model with the default parameters;
    ``nanotrack_dir`` / ``vittrack_dir``: also NanoTrack v2 / VitTrack from that folder)."""
    result = {"default model": RunSpec("atom_ebm", "default", default)} if default else {}
    peers = {"NanoTrack v2": RunSpec("opencv", "nanotrack", model_dir=nanotrack_dir)} if nanotrack_dir else {}
    if vittrack_dir:
        peers["VitTrack"] = RunSpec("opencv", "vittrack", model_dir=vittrack_dir)
    return result | {
        "EBM + S1": RunSpec("atom_ebm", "always_refine", ebm),
        "IoU-MSE + fixed": RunSpec("atom_ebm", "atom_baseline", iou),
        "EBM + fixed": RunSpec("atom_ebm", "atom_baseline", ebm),
        "IoU-MSE + S1": RunSpec("atom_ebm", "always_refine", iou),
        "no refinement": RunSpec("atom_ebm", "no_refine", default or ebm),
        "OpenCV CSRT": RunSpec("opencv", "csrt"),
    } | peers


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


def score(sequences: list[Sequence], out_dir: Path) -> dict[str, dict]:
    """Per-sequence metrics of the result files in ``out_dir`` (pytracking protocol on 1-based boxes, absent-target rows
    as UAV123)."""
    per_sequence = {}
    for sequence in sequences:
        ground_truth = sequence.ground_truth
        boxes = load_boxes(out_dir / f"{sequence.name}.txt")
        per_sequence[sequence.name] = sequence_metrics(one_based(boxes, sequence.box_origin),
                                                       one_based(ground_truth, sequence.box_origin),
                                                       dataset=scoring_dataset(sequence.dataset, ground_truth),
                                                       target_visible=sequence.target_visible)
    return per_sequence


def run_variant(label: str, spec: RunSpec, sets: dict[str, dict[str, list[Sequence]]], out: Path, seeds: int,
                workers: int, device: str) -> dict[str, list[dict]] | str:
    """Run the variant ``label`` ``seeds`` times (once for the deterministic OpenCV trackers) on every set, its result
    files under a folder named after the label; returns set -> per-run metrics (with ``per_domain`` means and
    ``per_sequence_auc``), or a one-line failure."""
    slug = label.lower().replace(" + ", "_").replace(" ", "_").replace("-", "")
    runs: dict[str, list[dict]] = {name: [] for name in sets}
    for seed in range(1 if spec.tracker_name == "opencv" else seeds):
        run_spec = replace(spec, device=device if spec.checkpoint else None, seed=seed)
        for set_name, domains in sets.items():
            sequences = [s for domain in domains.values() for s in domain]
            results = out / "results" / set_name / slug / f"seed{seed}"
            failures = run_dataset(run_spec, sequences, results, workers=workers)
            if failures:
                return f"{set_name}, seed {seed}: failed on {failures}"
            out_dir = result_dir(results, run_spec.tracker_name, run_spec.param)
            per_sequence = score(sequences, out_dir)
            metrics = dataset_metrics(per_sequence.values())
            metrics["fps"] = frames_per_second(out_dir, [s.name for s in sequences])
            metrics["per_sequence_auc"] = {name: m["auc"] for name, m in per_sequence.items()}
            metrics["per_domain"] = {domain: float(np.mean([per_sequence[s.name]["auc"] for s in members]))
                                     for domain, members in domains.items()}
            metrics["domain_mean_auc"] = float(np.mean(list(metrics["per_domain"].values())))
            runs[set_name].append(metrics)
    return runs


def print_table(title: str, summary: dict[str, dict], columns: list[str], column_key: str) -> None:
    """A Markdown table: one row per variant, means over runs: AUC over all sequences, the mean of the ``columns``'
    AUCs (domains), OP50, OP75, precision, then the AUC of each ``columns`` entry."""
    print(f"\n{title}\n")
    print("| variant | AUC | AUC per run | mean of columns | OP50 | OP75 | Precision | "
          + " | ".join(f"AUC {n}" for n in columns) + " | FPS |")
    print("|---" * (8 + len(columns)) + "|")
    for label, m in summary.items():
        per = " | ".join(f"{m[column_key][n]:.1f}" for n in columns)
        runs = " / ".join(f"{auc:.1f}" for auc in m["auc_per_run"])
        print(f"| {label} | {m['auc']:.1f} | {runs} | {m['domain_mean_auc']:.1f} | {m['op50']:.1f} | {m['op75']:.1f} | "
              f"{m['precision']:.1f} | {per} | {m['fps']:.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ebm-checkpoint", required=True)
    parser.add_argument("--iou-checkpoint", required=True)
    parser.add_argument("--default-checkpoint", help="also run this model (e.g. the bundled one) with the default parameters")
    parser.add_argument("--out", type=Path, default=Path("study_output"))
    parser.add_argument("--data-root", type=Path, help="local data root (default: $ATOM_EBM_LOCAL_DATA)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seeds", type=int, default=3, help="runs per variant (base seeds 0..N-1)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes over sequences")
    parser.add_argument("--sets", nargs="+", choices=("held_out", "selection"), default=["held_out", "selection"])
    parser.add_argument("--variants", nargs="+", metavar="LABEL",
                        help="run only these variants (labels as in the table, e.g. 'EBM + S1'); finished result files "
                             "are reused, so separate processes can share the work and a last call with all makes the table")
    parser.add_argument("--nanotrack-dir", default=os.environ.get("NANOTRACK_MODEL_DIR"),
                        help="NanoTrack v2 model folder (default: $NANOTRACK_MODEL_DIR)")
    parser.add_argument("--vittrack-dir", default=os.environ.get("VITTRACK_MODEL_DIR"),
                        help="VitTrack model folder (default: $VITTRACK_MODEL_DIR)")
    args = parser.parse_args(argv)
    selected = variants(args.ebm_checkpoint, args.iou_checkpoint, args.default_checkpoint, args.nanotrack_dir,
                        args.vittrack_dir)
    unknown = sorted(set(args.variants or []) - set(selected))
    if unknown:
        print(f"study: error: unknown variant(s) {unknown}; valid: {', '.join(selected)}", file=sys.stderr)
        return 2
    if args.variants:
        selected = {label: spec for label, spec in selected.items() if label in args.variants}

    try:
        data_root = resolve_dataset_root("local", args.data_root)
    except FileNotFoundError as error:
        print(f"study: error: {error}", file=sys.stderr)
        return 2
    sets: dict[str, dict[str, list[Sequence]]] = {}
    if "held_out" in args.sets:
        sets["held_out"] = {sequence.name: [sequence] for sequence in held_out_sequences(data_root)}
    if "selection" in args.sets:
        sets["selection"] = selection_sequences(data_root)
    summary: dict[str, dict[str, dict]] = {name: {} for name in sets}
    for label, spec in selected.items():
        runs = run_variant(label, spec, sets, args.out, args.seeds, args.workers, args.device)
        if isinstance(runs, str):
            print(f"study: {label}: {runs}", file=sys.stderr)
            return 1
        for set_name, set_runs in runs.items():
            summary[set_name][label] = mean_over_runs(set_runs)

    if "held_out" in summary:
        plot_curves(summary["held_out"], "success", args.out / "success.png", title="held-out")
        plot_curves(summary["held_out"], "precision", args.out / "precision.png", title="held-out")
    jsonable = {set_name: {label: {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in m.items()}
                           for label, m in rows.items()} for set_name, rows in summary.items()}
    record = {"versions": library_versions(), "seeds": args.seeds,
              "sets": {name: {domain: [s.name for s in members] for domain, members in domains.items()}
                       for name, domains in sets.items()}, "variants": jsonable}
    atomic_write_text(args.out / "study.json", json.dumps(record, indent=1) + "\n")
    if "held_out" in summary:
        print_table("Held-out sequences", summary["held_out"], list(sets["held_out"]), "per_domain")
    if "selection" in summary:
        print_table("Selection set (per domain; the parameters were chosen on the mean of the domains)", summary["selection"],
                    list(sets["selection"]), "per_domain")
    print(f"\nOpenCV {cv2.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
