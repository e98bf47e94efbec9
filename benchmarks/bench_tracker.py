"""Per-frame time of the ATOM-EBM tracker, broken down by stage, relative to one backbone forward pass.

    python benchmarks/bench_tracker.py [--checkpoint F] [--param default] [--set KEY=VALUE ...]
                                       [--device cpu cuda] [--frames 30] [--threads N] [--sequence DIR]

For every device: the median time of one ResNet-18 forward (layer2 + layer3) on a 288x288 input measured right
after every frame (so both see the same load), the tracker's median per-frame time per stage (backbone, IoU-Net
test features, classifier, refinement, other; ``trackers.atom_ebm.stage_timer``), the refinement's share of the
median frame, the median and the mean frame time (the mean includes the periodic CG updates), the ratio mean frame /
backbone, the frames per second and the first-frame initialisation time. Without ``--checkpoint`` a randomly
initialised ``atom_resnet18`` is used (same computation, meaningless boxes). Frames are decoded
before timing, so file I/O is not counted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from ltr.admin.loading import load_network
from ltr.models.bbreg.atom import atom_resnet18
from ltr.utils.box_io import load_boxes
from ltr.utils.device import resolve_device
from ltr.utils.image_io import read_image
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import AtomEbmParams, parse_overrides, with_overrides
from trackers.atom_ebm.stage_timer import STAGES
from trackers.atom_ebm.tracker import AtomEbmTracker

#: the default sequence under the local data root ($ATOM_EBM_LOCAL_DATA): OTB Crossing
DEFAULT_SEQUENCE = Path("sequences") / "otb" / "Crossing"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _backbone_forward(net: torch.nn.Module, images: torch.Tensor, device: torch.device) -> float:
    """Seconds of one layer2+layer3 forward of ``images``."""
    _sync(device)
    start = time.perf_counter()
    with torch.no_grad():
        net.extract_backbone_features(images, layers=["layer2", "layer3"])
    _sync(device)
    return time.perf_counter() - start


def measure(net: torch.nn.Module, params: AtomEbmParams, device: torch.device, frames: list, init_box) -> dict[str, float]:
    """Median seconds per stage, for the whole ``track`` call and for a reference backbone forward.

    The reference forward runs right after every tracked frame, so both medians see the same machine load.
    The first 2 tracked frames are warm-up.
    """
    tracker = AtomEbmTracker(net, params, device)
    tracker.time_stages = True
    _sync(device)
    start = time.perf_counter()
    tracker.initialize(frames[0], init_box)
    _sync(device)
    init_seconds = time.perf_counter() - start
    reference_input = torch.randn(1, 3, 288, 288, device=device)
    per_stage: dict[str, list[float]] = {name: [] for name in (*STAGES, "frame", "reference")}
    for index, frame in enumerate(frames[1:]):
        _sync(device)
        start = time.perf_counter()
        output = tracker.track(frame)
        _sync(device)
        elapsed = time.perf_counter() - start
        reference = _backbone_forward(net, reference_input, device)
        if index >= 2:
            per_stage["frame"].append(elapsed)
            per_stage["reference"].append(reference)
            for name in STAGES:
                per_stage[name].append(output.timings[name])
    result = {name: statistics.median(values) for name, values in per_stage.items()}
    result["frame_mean"] = statistics.fmean(per_stage["frame"])  # includes the CG update every few frames
    result["init"] = init_seconds
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="network checkpoint (default: random atom_resnet18 weights)")
    parser.add_argument("--param", default="default", help="parameter set")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="override parameters, e.g. num_iter=4")
    parser.add_argument("--device", nargs="+", default=["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    parser.add_argument("--frames", type=int, default=30, help="frames to track (>= 4)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads for CPU runs")
    local_data = os.environ.get("ATOM_EBM_LOCAL_DATA")
    parser.add_argument("--sequence", type=Path, default=Path(local_data) / DEFAULT_SEQUENCE if local_data else None,
                        required=not local_data,
                        help="OTB-style folder (img/, groundtruth.txt; default: $ATOM_EBM_LOCAL_DATA/sequences/otb/Crossing)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        image_paths = sorted((args.sequence / "img").glob("*.jpg"))[: args.frames]
        if len(image_paths) < 4:
            raise ValueError(f"need at least 4 frames in {args.sequence / 'img'}")
        frames = [read_image(p) for p in image_paths]
        init_box = load_boxes(args.sequence / "groundtruth.txt")[0]
        init_box[:2] -= 1  # OTB boxes are 1-based
        devices = [resolve_device(d) for d in args.device]
        overrides = parse_overrides(args.set)
        params = with_overrides(get_parameters(args.param), overrides)
    except (FileNotFoundError, ValueError) as error:
        print(f"bench_tracker: error: {error}", file=sys.stderr)
        return 2
    print(f"param={args.param} overrides={overrides or 'none'} frames={len(frames)} threads={torch.get_num_threads()} "
          f"checkpoint={args.checkpoint or 'random atom_resnet18'}")
    header = (f"{'device':<8}{'backbone fwd':>13}" + "".join(f"{s:>14}" for s in STAGES)
              + f"{'refine %':>10}{'frame':>10}{'mean':>10}{'ratio':>8}{'fps':>8}{'init':>8}")
    print(header)
    for device in devices:
        torch.manual_seed(0)
        net = load_network(args.checkpoint, device) if args.checkpoint else atom_resnet18().to(device).eval()
        net.requires_grad_(False)
        stages = measure(net, params, device, frames, init_box)
        reference = stages["reference"]
        row = f"{device.type:<8}{reference * 1e3:>11.1f}ms" + "".join(f"{stages[s] * 1e3:>12.1f}ms" for s in STAGES)
        row += (f"{100 * stages['refinement'] / stages['frame']:>10.1f}{stages['frame'] * 1e3:>8.1f}ms{stages['frame_mean'] * 1e3:>8.1f}ms"
                f"{stages['frame_mean'] / reference:>8.2f}{1.0 / stages['frame_mean']:>8.1f}{stages['init']:>7.2f}s")
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
