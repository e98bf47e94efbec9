"""Does IoU-Net refinement improve a perturbed box? Measured per domain, with the classifier taken out of the loop.

    python experiments/refinement_transfer.py [--checkpoint F ...] [--param always_refine] [--set KEY=VALUE ...] [--frame-step 2]
        [--perturbations 3] [--data-root DIR] [--json OUT.json]

For every ``frame-step``-th frame with a valid ground-truth box, the tracker (conditioned on the first frame's
ground truth, as in tracking) gets an estimate made by perturbing the ground truth like a classifier error
plus a stale size (centre + N(0, 0.1 sqrt(wh)) per axis, each side x exp(N(0, 0.15))) and refines it on the crop
around the estimate, exactly as ``AtomEbmTracker`` does in a frame (the perturbation
is the one of the tracker's first-frame self-check, ``trackers.atom_ebm.refinement_check``; the check itself is
off here, so every estimate is refined). Reported per sequence: mean IoU with the
ground truth before and after refinement, the fraction of estimates the refinement improved, the geometric
mean of refined size over true size (sqrt of the area ratio; below 1: refinement shrinks boxes), and the share of
the estimate's size error that refinement keeps: the least-squares slope of log(refined / true size) on
log(estimate / true size) (1: the size is not refined at all, 0: the estimate's size error is removed; for a whole
domain, the sample-weighted mean of the sequences' slopes).

Domains: the selection set's domains (``ltr.train_settings.datasets.SELECTION_SEQUENCES``: drone, sports, OTB, DAVIS,
lost targets; never trained on by ``atom_ebm_real``), the held-out real sequences (Couple, Football1, person9) and
four held-out procedural sequences (``ltr.dataset.synthetic``, seed 2,000,000, never used in training or validation).
Seeded: a re-run gives the same numbers.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ltr.admin.loading import load_network
from ltr.admin.paths import resolve_dataset_root
from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.dataset.synthetic import SyntheticDataset, SyntheticParams
from ltr.train_settings.datasets import held_out_sequences, selection_sequences
from ltr.utils.files import atomic_write_text
from ltr.utils.image_io import read_image
from pytracking.analysis.metrics import iou_continuous
from trackers.atom_ebm.iou_refinement import IoURefinement
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import parse_overrides, with_overrides
from trackers.atom_ebm.refinement_check import CENTRE_NOISE, LOG_SIZE_NOISE
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import resolve_checkpoint

SYNTHETIC_SEED = 2_000_000


def perturb(box: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0-based (x, y, w, h) box with its centre and sides perturbed like a classifier estimate."""
    center = box[:2] + box[2:] / 2 + rng.normal(0.0, CENTRE_NOISE * np.sqrt(box[2] * box[3]), 2)
    size = box[2:] * np.exp(rng.normal(0.0, LOG_SIZE_NOISE, 2))
    return np.concatenate((center - size / 2, size))


def refine_once(refinement: IoURefinement, image: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """The tracker's refinement of ``estimate`` (0-based xywh) on the crop around it, as in ``track``; the estimate
    itself when every refined box degenerated."""
    with torch.no_grad():
        refined = refinement.refine(image, estimate)
    return estimate.copy() if refined is None else np.asarray(refined.box)


def evaluate_sequence(net: torch.nn.Module, params, sequence: Sequence, frame_step: int, perturbations: int) -> dict:
    """Mean IoU before / after refinement and the fraction improved, over the sampled frames of ``sequence``.

    Seeded from the sequence name: every network sees the same perturbed estimates.
    """
    seed = zlib.crc32(sequence.name.encode())
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    refinement = IoURefinement(net, params, torch.device("cpu"), torch.Generator())
    origin = np.array([sequence.box_origin, sequence.box_origin, 0.0, 0.0])
    ground_truth = sequence.ground_truth - origin
    tracker = AtomEbmTracker(net, params, device="cpu", refinement=refinement)
    tracker.initialize(read_image(sequence.frames[0]), ground_truth[0])  # conditions the refinement as in tracking
    before, after, size_before, size_after = [], [], [], []
    for index in range(frame_step, len(sequence), frame_step):
        gt = ground_truth[index]
        if not (np.all(np.isfinite(gt)) and gt[2] > 0 and gt[3] > 0):
            continue
        image = read_image(sequence.frames[index])
        for _ in range(perturbations):
            estimate = perturb(gt, rng)
            refined = refine_once(refinement, image, estimate)
            before.append(iou_continuous(estimate[None], gt[None])[0])
            after.append(iou_continuous(refined[None], gt[None])[0])
            size_before.append(np.sqrt(estimate[2] * estimate[3] / (gt[2] * gt[3])))
            size_after.append(np.sqrt(refined[2] * refined[3] / (gt[2] * gt[3])))
    before, after = np.array(before), np.array(after)
    log_before, log_after = np.log(size_before), np.log(size_after)
    return {"samples": len(before), "iou_before": float(before.mean()), "iou_after": float(after.mean()),
            "improved": float((after > before).mean()), "size_ratio_after": float(np.exp(log_after.mean())),
            "size_error_kept": size_error_kept(log_before, log_after)}


def size_error_kept(log_before: np.ndarray, log_after: np.ndarray) -> float:
    """Least-squares slope of ``log_after`` on ``log_before`` (log size over true size, per estimate)."""
    centred = log_before - log_before.mean()
    return float(centred @ (log_after - log_after.mean()) / (centred @ centred))


def pooled(stats: list[dict]) -> dict:
    """Sample-weighted means of per-sequence results."""
    total = sum(s["samples"] for s in stats)
    return {"samples": total, **{key: sum(s[key] * s["samples"] for s in stats) / total
                                 for key in ("iou_before", "iou_after", "improved", "size_error_kept")},
            "size_ratio_after": float(np.exp(sum(np.log(s["size_ratio_after"]) * s["samples"] for s in stats) / total))}


def synthetic_sequences(root: Path) -> list[Sequence]:
    """Four 60-frame procedural sequences written under ``root``."""
    dataset = SyntheticDataset(SyntheticParams(num_sequences=4, sequence_length=60), seed=SYNTHETIC_SEED, name="synthetic_test")
    dataset.write_folder(root)
    return load_dataset("folder", root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", nargs="+", default=[None], help="networks to compare (default: the bundled model)")
    parser.add_argument("--param", default="always_refine", help="tracker parameter set (its refinement settings are used)")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="override parameters, e.g. search_area_scale=5.0")
    parser.add_argument("--frame-step", type=int, default=2)
    parser.add_argument("--perturbations", type=int, default=3, help="perturbed estimates per sampled frame")
    parser.add_argument("--data-root", type=Path, help="local data root (default: $ATOM_EBM_LOCAL_DATA)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        params = with_overrides(get_parameters(args.param), {**parse_overrides(args.set), "refinement_check_boxes": 0})
    except ValueError as error:
        print(f"refinement_transfer: error: {error}", file=sys.stderr)
        return 2
    if params.refinement == "none":
        print(f"refinement_transfer: parameter set {args.param} does not refine", file=sys.stderr)
        return 2
    try:
        data_root = resolve_dataset_root("local", args.data_root)
        domains = {f"selection: {domain}": sequences
                   for domain, sequences in selection_sequences(data_root).items()}
        domains["held out"] = held_out_sequences(data_root)
        nets = {str(c or "bundled"): load_network(resolve_checkpoint(c), device="cpu") for c in args.checkpoint}
    except (FileNotFoundError, ValueError) as error:
        print(f"refinement_transfer: error: {error}", file=sys.stderr)
        return 2
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        domains["synthetic, held out"] = synthetic_sequences(Path(tmp))
        jobs = [(name, label, seq) for name in nets for label, seqs in domains.items() for seq in seqs]
        for name, label, sequence in tqdm(jobs, desc="sequences", unit="seq"):
            stats = evaluate_sequence(nets[name], params, sequence, args.frame_step, args.perturbations)
            results.setdefault(name, {}).setdefault(label, {})[sequence.name] = stats
    print("| network | domain | sequence | samples | mean IoU before | mean IoU after | improved | size after / true | size error kept |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, by_domain in results.items():
        for label, by_sequence in by_domain.items():
            by_sequence["all"] = pooled(list(by_sequence.values()))
            for seq_name, s in by_sequence.items():
                print(f"| {Path(name).name} | {label} | {seq_name} | {s['samples']} | {s['iou_before']:.3f} | "
                      f"{s['iou_after']:.3f} | {100 * s['improved']:.0f}% | {s['size_ratio_after']:.2f} | {s['size_error_kept']:.2f} |")
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
