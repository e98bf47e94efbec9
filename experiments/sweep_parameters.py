"""Sweep ATOM-EBM tracker parameters on real sequences: AUC / OP50 / precision per setting and domain, mean over seeds.

    python experiments/sweep_parameters.py [--checkpoint F] [--variants PARAM[:KEY=VALUE,...] ...]
        [--sweep KEY=V1,V2 ...] [--data LOADER:FOLDER:SEQ1,SEQ2 ... | --domains drone sports ...] [--data-root DIR]
        [--seeds 2] [--max-frames 0] [--frame-step 1] [--zoom 1] [--repeat-frames 1] [--passes 1] [--threads N]
        [--device cpu] [--json OUT.json]

Every variant (a parameter set with overrides, default ``default``), crossed with every combination of the ``--sweep``
values (Python literals, separated by the commas outside brackets; bare words are strings; a sweep value wins over
the variant's own), runs on every sequence ``--seeds`` times (base seeds 0, 1, ...: each sequence is seeded from its
name and the base seed as in ``pytracking.evaluation.runner``, so a re-run with the same number of torch threads
gives the same numbers). Scores use the evaluation metrics (pytracking protocol, on boxes moved to the 1-based
convention: ``pytracking.analysis.metrics.one_based``). The report ends with each setting's difference to the first
on the same sequences (``pytracking.analysis.paired``: an interval from resampling the sequences, and the largest
single change), with ``--passes`` > 1 the lost frames and size ratio of the first pass against the last (does the
tracker degrade as the video goes on?), and each sequence's failure measures (lost frames, drift, size ratio:
``pytracking.analysis.failures``). The default sequences are the selection set
(``ltr.train_settings.datasets.SELECTION_SEQUENCES``: drone, sports, OTB, DAVIS and lost-target video that
``atom_ebm_real`` never trains on), reported per domain; the overall score is the mean of the domain means.
``--data`` names other sequences instead (one domain, "data"). The data root is ``--data-root``, else
``$ATOM_EBM_LOCAL_DATA``.

Example, the classifier's search area and learning rate:
    python experiments/sweep_parameters.py --seeds 2 --sweep search_area_scale=4.0,5.0 --sweep learning_rate=0.01,0.03
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from ltr.admin.loading import load_network
from ltr.admin.paths import resolve_dataset_root
from ltr.dataset.base import box_validity
from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.benchmarks.sequence import Sequence, back_and_forth
from ltr.train_settings.datasets import SELECTION_SEQUENCES, selection_sequences
from ltr.utils.device import resolve_device
from ltr.utils.files import atomic_write_text
from pytracking.analysis.failures import failure_measures, failure_mode
from pytracking.analysis.metrics import one_based, scoring_dataset, sequence_metrics
from pytracking.analysis.paired import paired_difference
from pytracking.evaluation.runner import run_sequence, seed_sequence
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import parse_overrides, parse_value, with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import resolve_checkpoint

METRICS = ("auc", "op50", "op75", "precision", "lost", "drift", "size_ratio")
#: with ``--passes`` > 1, the failure measures of the first and of the last pass too (does the tracker degrade?)
PASS_METRICS = ("lost_first_pass", "lost_last_pass", "size_ratio_first_pass", "size_ratio_last_pass")


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
    return [dict(point) for point in itertools.product(*axes)]  # no axes: one empty point


def parse_variant(text: str) -> tuple[str, dict[str, object]]:
    """``"default:learning_rate=0.01,filter_size=4"`` -> ("default", {"learning_rate": 0.01, "filter_size": 4})."""
    param, _, rest = text.partition(":")
    return param, parse_overrides(split_values(rest)) if rest else {}


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


def reordered(sequence: Sequence, order: list[int] | np.ndarray) -> Sequence:
    """``sequence`` with its frames (and boxes, visibility) taken in ``order``."""
    order = np.asarray(order, dtype=np.int64)
    visible = sequence.target_visible
    return Sequence(sequence.name, [sequence.frames[i] for i in order], sequence.ground_truth[order], sequence.dataset,
                    target_visible=None if visible is None else np.asarray(visible)[order],
                    object_class=sequence.object_class, box_origin=sequence.box_origin)


def first_frames(sequence: Sequence, count: int) -> Sequence:
    """The first ``count`` frames of ``sequence``."""
    return reordered(sequence, np.arange(min(count, len(sequence.frames))))


def every_kth_frame(sequence: Sequence, step: int) -> Sequence:
    """Frames 0, step, 2 step, .. of ``sequence``: the same video at 1/step of its frame rate."""
    return reordered(sequence, np.arange(0, len(sequence.frames), step))


def repeated_frames(sequence: Sequence, count: int) -> Sequence:
    """Every frame of ``sequence`` shown ``count`` times in a row: a still target between the real changes, as in video
    at ``count`` times the frame rate (the memory's learning rate and the refinement act per frame)."""
    return reordered(sequence, np.repeat(np.arange(len(sequence.frames)), count))


def zoomed(sequence: Sequence, zoom: float, folder: Path) -> Sequence:
    """``sequence`` filmed by a camera that zooms during the clip, so that the target ends ``zoom`` times its first size.

    Frame i is the window of the source frame ``W / z_i`` x ``H / z_i`` (``z_i`` log-linear from 1 to ``zoom``, or
    from ``1 / zoom`` to 1 when ``zoom`` < 1: a zoom-out needs the view beyond the frame, so it starts zoomed in)
    resized to the source's ``W x H``; the window's centre moves linearly from the first to the last visible box's
    centre and stays inside the frame. Boxes map with the window (pixel centres map affinely: ``u = z (x - left)``)
    and are cut to the frame, as benchmarks annotate the visible part; a box wholly outside, or absent, is NaN. The
    frames are written as JPEG (quality 95) to ``folder`` (a sequence of its own). The selection clips span seconds,
    whole sequences minutes, with far larger size changes: this tests how the tracker follows scale."""
    count = len(sequence.frames)
    start, end = (1.0, zoom) if zoom >= 1.0 else (1.0 / zoom, 1.0)
    factors = start * (end / start) ** (np.arange(count) / max(count - 1, 1))
    boxes = sequence.ground_truth - np.array([sequence.box_origin, sequence.box_origin, 0.0, 0.0])  # 0-based
    visible = np.flatnonzero(box_validity(boxes))
    first_centre, last_centre = (boxes[visible[[0, -1]], :2] + boxes[visible[[0, -1]], 2:] / 2)
    folder.mkdir(parents=True, exist_ok=True)
    frames, zoomed_boxes = [], np.full_like(boxes, np.nan)
    for index, factor in enumerate(factors):
        image = cv2.imread(str(sequence.frames[index]), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"sequence {sequence.name}: cannot read frame {sequence.frames[index]}")
        height, width = image.shape[:2]
        size = np.array([width, height]) / factor
        centre = first_centre + (last_centre - first_centre) * index / max(count - 1, 1)
        left_top = np.clip(centre - size / 2, 0.0, np.array([width, height]) - size)  # window edges, pixel-edge units
        # pixel-edge coordinate e = pixel-centre coordinate + 0.5; the window's edge maps to output edge 0
        offset = -factor * left_top + 0.5 * factor - 0.5
        matrix = np.array([[factor, 0.0, offset[0]], [0.0, factor, offset[1]]])
        path = folder / f"{index:06d}.jpg"
        cv2.imwrite(str(path), cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_REPLICATE), [cv2.IMWRITE_JPEG_QUALITY, 95])
        frames.append(str(path))
        top_left = np.clip(factor * (boxes[index, :2] - left_top), 0.0, [width, height])
        bottom_right = np.clip(factor * (boxes[index, :2] + boxes[index, 2:] - left_top), 0.0, [width, height])
        if np.all(bottom_right > top_left):  # else out of view (or absent already): NaN
            zoomed_boxes[index] = np.concatenate((top_left, bottom_right - top_left))
    zoomed_boxes[:, :2] += sequence.box_origin
    return Sequence(sequence.name, frames, zoomed_boxes, sequence.dataset, target_visible=sequence.target_visible,
                    object_class=sequence.object_class, box_origin=sequence.box_origin)


def played_back_and_forth(sequence: Sequence, passes: int) -> Sequence:
    """``sequence`` played ``passes`` times, alternately forward and backward (``back_and_forth``)."""
    return reordered(sequence, back_and_forth(len(sequence.frames), passes))


def played(sequence: Sequence, args: argparse.Namespace, zoom_folder: Path) -> Sequence:
    """``sequence`` as the sweep plays it, in this order: its first ``--max-frames``, every ``--frame-step``-th frame,
    the ``--zoom`` (frames written to ``zoom_folder``), each frame ``--repeat-frames`` times, ``--passes`` passes."""
    if args.max_frames:
        sequence = first_frames(sequence, args.max_frames)
    if args.frame_step > 1:
        sequence = every_kth_frame(sequence, args.frame_step)
    if args.zoom != 1.0:
        sequence = zoomed(sequence, args.zoom, zoom_folder)
    if args.repeat_frames > 1:
        sequence = repeated_frames(sequence, args.repeat_frames)
    if args.passes > 1:
        sequence = played_back_and_forth(sequence, args.passes)
    return sequence


def pass_measures(boxes: np.ndarray, ground_truth: np.ndarray, passes: int) -> dict[str, float]:
    """``lost`` and ``size_ratio`` (``failure_measures``) of the first and of the last pass of a clip played
    ``passes`` times (``back_and_forth``: ``passes * (N - 1) + 1`` rows; pass k is rows k (N - 1) .. k (N - 1) + N - 1,
    counting from 0)."""
    length = (len(boxes) - 1) // passes + 1
    first = failure_measures(boxes[:length], ground_truth[:length])
    last = failure_measures(boxes[-length:], ground_truth[-length:])
    return {"lost_first_pass": first["lost"], "lost_last_pass": last["lost"],
            "size_ratio_first_pass": first["size_ratio"], "size_ratio_last_pass": last["size_ratio"]}


def evaluate(tracker: AtomEbmTracker, domains: dict[str, list[Sequence]], seed: int, passes: int = 1) -> dict:
    """Metrics of one base seed: per sequence (AUC, OP50, OP75, precision, failure measures; with ``passes`` > 1 those
    of the first and the last pass too: ``PASS_METRICS``), per domain (means over its sequences) and overall (the
    mean of the domain means)."""
    keys = metric_keys(passes)
    per_sequence = {}
    for sequences in domains.values():
        for sequence in sequences:
            seed_sequence(sequence.name, seed)
            boxes, _, _ = run_sequence(tracker, sequence)
            ground_truth = sequence.ground_truth[:len(boxes)]
            dataset = scoring_dataset(sequence.dataset, ground_truth)
            metrics = sequence_metrics(one_based(boxes, sequence.box_origin),
                                       one_based(ground_truth, sequence.box_origin), dataset=dataset,
                                       target_visible=sequence.target_visible)
            metrics.update(failure_measures(boxes, ground_truth))
            if passes > 1:
                metrics.update(pass_measures(boxes, ground_truth, passes))
            per_sequence[sequence.name] = {key: float(metrics[key]) for key in keys}
    per_domain = {domain: {key: _nanmean([per_sequence[s.name][key] for s in sequences]) for key in keys}
                  for domain, sequences in domains.items()}
    overall = {key: _nanmean([values[key] for values in per_domain.values()]) for key in keys}
    return {**overall, "per_domain": per_domain, "per_sequence": per_sequence}


def metric_keys(passes: int) -> tuple[str, ...]:
    """The metrics recorded per sequence, domain and run: ``METRICS``, and ``PASS_METRICS`` with several passes."""
    return METRICS + PASS_METRICS if passes > 1 else METRICS


def _mean_over_runs(runs: list[dict], keys: tuple[str, ...], *path: str) -> dict[str, float]:
    """Mean over runs of the metric dict at ``path`` (e.g. ("per_domain", "drone"))."""
    def at(run):
        for key in path:
            run = run[key]
        return run
    return {key: _nanmean([at(run)[key] for run in runs]) for key in keys}


def _nanmean(values: list[float]) -> float:
    """Mean of the finite values (NaN if none: e.g. no frame where the target was kept)."""
    finite = [value for value in values if np.isfinite(value)]
    return float(np.mean(finite)) if finite else float("nan")


def paired_line(first: dict, row: dict, domains: dict[str, list[Sequence]]) -> str:
    """``row``'s AUC against ``first``'s on the same sequences (``paired_difference``, one line)."""
    names = {domain: [s.name for s in sequences] for domain, sequences in domains.items()}
    auc = [{name: values["auc"] for name, values in r["per_sequence"].items()} for r in (first, row)]
    return paired_difference(*auc, names).summary()


def failure_line(per_sequence: dict[str, dict[str, float]]) -> str:
    """The sequences with a failure mode (``pytracking.analysis.failures``), e.g. "Diving scale (size 0.41)"."""
    found = []
    for name, measures in per_sequence.items():
        mode = failure_mode(measures)
        if mode == "lost":
            found.append(f"{name} lost ({measures['lost']:.0f} % of frames)")
        elif mode == "drift":
            found.append(f"{name} drift ({measures['drift']:.2f} sizes)")
        elif mode == "scale":
            found.append(f"{name} scale (size {measures['size_ratio']:.2f})")
    return ", ".join(found) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="network (default: the bundled model)")
    parser.add_argument("--variants", nargs="+", default=["default"], metavar="PARAM[:KEY=VALUE,...]",
                        help="parameter sets with overrides, e.g. default \"default:learning_rate=0.01\"")
    parser.add_argument("--sweep", nargs="+", action="extend", default=[], metavar="KEY=V1,V2",
                        help="parameter values to combine with every variant, e.g. learning_rate=0.01,0.03")
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--data", nargs="+", action="extend", metavar="LOADER:FOLDER:SEQS",
                      help="these sequences instead of the selection set")
    data.add_argument("--domains", nargs="+", choices=tuple(SELECTION_SEQUENCES),
                      help="selection-set domains to run (default: all)")
    parser.add_argument("--data-root", type=Path, default=None,
                        help="local data root (default: $ATOM_EBM_LOCAL_DATA)")
    parser.add_argument("--seeds", type=int, default=2, help="runs per setting (base seeds 0..N-1)")
    parser.add_argument("--max-frames", type=int, default=0, help="use only the first N frames (0 = all)")
    parser.add_argument("--frame-step", type=int, default=1,
                        help="use every K-th frame (a lower frame rate: K times the motion between frames)")
    parser.add_argument("--zoom", type=float, default=1.0,
                        help="a camera zoom over each clip: the target ends this many times its first size (after "
                             "--frame-step; frames written to a temporary folder)")
    parser.add_argument("--repeat-frames", type=int, default=1,
                        help="show every frame this many times in a row (after --frame-step)")
    parser.add_argument("--passes", type=int, default=1,
                        help="play each sequence this many times, alternately forward and backward (a longer test)")
    parser.add_argument("--threads", type=int, default=None, help="torch and OpenCV threads (default: torch's)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="sweep_zoom_") as zoom_folder:
        try:
            grid = [(text + "".join(f", {key}={value}" for key, value in point.items()), {**overrides, **point},
                     with_overrides(get_parameters(param), {**overrides, **point}))
                    for text, (param, overrides) in ((text, parse_variant(text)) for text in args.variants)
                    for point in parse_grid(args.sweep)]
            if min(args.seeds, args.passes, args.frame_step, args.repeat_frames) < 1:
                raise ValueError(f"--seeds, --passes, --frame-step and --repeat-frames must be >= 1, got {args.seeds}, "
                                 f"{args.passes}, {args.frame_step} and {args.repeat_frames}")
            if not args.zoom > 0:
                raise ValueError(f"--zoom must be > 0, got {args.zoom}")
            device = resolve_device(args.device)
            data_root = resolve_dataset_root("local", args.data_root)
            if args.data:
                domains = {"data": load_sequences(args.data, data_root)}
            else:
                domains = selection_sequences(data_root, tuple(args.domains) if args.domains else None)
            net = load_network(resolve_checkpoint(args.checkpoint), device)
            domains = {domain: [played(s, args, Path(zoom_folder) / domain / s.name) for s in sequences]
                       for domain, sequences in domains.items()}
        except (FileNotFoundError, ValueError) as error:
            print(f"sweep_parameters: error: {error}", file=sys.stderr)
            return 2
        return _sweep(args, grid, domains, net, device)


def _sweep(args: argparse.Namespace, grid: list, domains: dict[str, list[Sequence]], net: torch.nn.Module,
           device: torch.device) -> int:
    """Track every setting of ``grid`` on ``domains`` and print (and write) the report."""
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    names = list(domains)
    keys = metric_keys(args.passes)
    print("| setting | AUC | AUC per run | OP50 | OP75 | " + " | ".join(f"AUC {n}" for n in names) + " |")
    print("|---" * (5 + len(names)) + "|")
    results = []
    for label, setting, params in tqdm(grid, desc="settings", unit="setting"):
        tracker = AtomEbmTracker(net, params, device)
        runs = [evaluate(tracker, domains, seed, args.passes) for seed in range(args.seeds)]
        row = {"variant": label, "setting": setting, "auc_per_run": [run["auc"] for run in runs],
               **_mean_over_runs(runs, keys),
               "per_domain": {domain: _mean_over_runs(runs, keys, "per_domain", domain) for domain in names},
               "per_sequence": {s.name: _mean_over_runs(runs, keys, "per_sequence", s.name)
                                for sequences in domains.values() for s in sequences}}
        results.append(row)
        per_run = " / ".join(f"{auc:.1f}" for auc in row["auc_per_run"])
        per_domain = " | ".join(f"{row['per_domain'][n]['auc']:.1f}" for n in names)
        tqdm.write(f"| {label} | {row['auc']:.1f} | {per_run} | {row['op50']:.1f} | {row['op75']:.1f} | {per_domain} |")
        if args.json:  # after every setting, so an interrupted sweep keeps what it measured
            record = {"checkpoint": args.checkpoint,
                      "domains": {d: [s.name for s in seqs] for d, seqs in domains.items()},
                      "seeds": args.seeds, "passes": args.passes, "frame_step": args.frame_step,
                      "zoom": args.zoom, "repeat_frames": args.repeat_frames, "results": results}
            atomic_write_text(args.json, json.dumps(record, indent=1) + "\n")
    if len(results) > 1:
        print(f"\nAgainst the first setting ({results[0]['variant']}; pytracking.analysis.paired, 90 % interval):")
        for row in results[1:]:
            print(f"- {row['variant']}: {paired_line(results[0], row, domains)}")
    if args.passes > 1:
        print("\nFirst pass -> last pass (lost % of frames and size ratio, mean over sequences):")
        for row in results:
            print(f"- {row['variant']}: lost {row['lost_first_pass']:.1f} -> {row['lost_last_pass']:.1f}, size ratio "
                  f"{row['size_ratio_first_pass']:.2f} -> {row['size_ratio_last_pass']:.2f}")
    print("\nFailures (pytracking.analysis.failures):")
    for row in results:
        print(f"- {row['variant']}: {failure_line(row['per_sequence'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
