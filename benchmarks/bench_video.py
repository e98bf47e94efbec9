"""Steady-state frame time of ``python -m pytracking.run_video`` relative to one full ResNet-18 forward, same run.

    python benchmarks/bench_video.py [--sequence DIR] [--variants default fast "default:num_iter=5,iou_crop_size=192"]
                                     [--frames 20 80] [--passes 1] [--repeats 3] [--checkpoint F] [--device cpu]
                                     [--threads N] [--json OUT]

A variant is ``PARAM[:KEY=VALUE,...]``: a parameter set with overridden tracker parameters; the key ``read_ahead``
(True/False) switches the background decoding of ``track_video``. For every variant ``track_video`` runs on the first
20 and the first 80 frames of an image folder, after a 5-frame warm-up run (1280x720 JPEGs by default: VOT-LT
*skiing* from the shared training data), so decoding, cropping and tracking are all counted, and the frame time is
(T(80) - T(20)) / 60: start-up and first-frame initialisation cancel. The pair of runs is repeated ``--repeats`` times
and the median frame time is reported with its range: on a shared CPU one difference of two runs varies by 10-20 %.
The reference is the median time of one torchvision ``resnet18`` forward (all layers, fc included, random weights) of
a 1x3x288x288 input, measured before every variant and after the last, on the same device and threads. The last line
reads ``ratio to ResNet-18: VARIANT X.XX ...``. ``--passes K`` plays a short folder K times, alternately forward and
backward (``ltr.dataset.benchmarks.sequence.back_and_forth``), so that FEW and MANY can lie further apart: the
30-frame drone clips give 88 frames with 3 passes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision

from ltr.admin.loading import load_network
from ltr.dataset.benchmarks.sequence import back_and_forth
from ltr.utils.box_io import load_boxes
from ltr.utils.device import resolve_device
from ltr.utils.files import atomic_write_text
from pytracking.run_video import track_video
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import parse_overrides, with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import resolve_checkpoint

#: the default video under the local data root ($ATOM_EBM_LOCAL_DATA): 1280x720 VOT-LT skiing
DEFAULT_SEQUENCE = Path("train") / "sequences" / "VOT_LT" / "skiing"
REFERENCE_RUNS = 15
WARM_UP_FRAMES = 5  # a short run per variant before the timed ones: one-off costs (torch.compile) stay out


def reference_forward(device: torch.device) -> float:
    """Median seconds of one full torchvision ResNet-18 forward at 288x288 (after 3 warm-up runs)."""
    net = torchvision.models.resnet18().eval().to(device)
    image = torch.randn(1, 3, 288, 288, device=device)
    times = []
    with torch.no_grad():
        for _ in range(3 + REFERENCE_RUNS):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            net(image)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
    return statistics.median(times[3:])


def parse_variant(text: str) -> tuple[str, dict, bool]:
    """``"default:num_iter=5,read_ahead=False"`` -> ("default", {"num_iter": 5}, False)."""
    param, _, settings = text.partition(":")
    overrides = parse_overrides([item for item in settings.split(",") if item]) if settings else {}
    read_ahead = overrides.pop("read_ahead", True)
    if not isinstance(read_ahead, bool):
        raise ValueError(f"read_ahead must be True or False, got {read_ahead!r}")
    return param, overrides, read_ahead


def track_seconds(frames: list[Path], init_box, net, params, device, read_ahead: bool) -> float:
    """Wall seconds of ``track_video`` over ``frames`` (symlinked into a temporary image folder, in this order)."""
    with tempfile.TemporaryDirectory() as folder:
        for index, frame in enumerate(frames):
            os.symlink(frame.resolve(), Path(folder) / f"{index:06d}{frame.suffix}")
        torch.manual_seed(0)
        start = time.perf_counter()
        tracker = AtomEbmTracker(net, params, device)
        track_video(folder, init_box=init_box, tracker=tracker, read_ahead=read_ahead)
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    local_data = os.environ.get("ATOM_EBM_LOCAL_DATA")
    parser.add_argument("--sequence", type=Path, default=Path(local_data) / DEFAULT_SEQUENCE if local_data else None,
                        required=not local_data,
                        help="image folder with img/*.jpg and groundtruth.txt (first box: 'x,y,w,h', 0-based; default: "
                             "$ATOM_EBM_LOCAL_DATA/train/sequences/VOT_LT/skiing)")
    parser.add_argument("--variants", nargs="+", default=["default", "fast"], help="PARAM[:KEY=VALUE,...]")
    parser.add_argument("--frames", type=int, nargs=2, default=(20, 80), metavar=("FEW", "MANY"))
    parser.add_argument("--passes", type=int, default=1,
                        help="play the folder this many times, alternately forward and backward")
    parser.add_argument("--repeats", type=int, default=3, help="timed (FEW, MANY) pairs per variant; the median counts")
    parser.add_argument("--checkpoint", help="network (default: $ATOM_EBM_CHECKPOINT, then the bundled model)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    few, many = args.frames
    try:
        if not 1 < few < many:
            raise ValueError(f"--frames needs 1 < FEW < MANY, got {few} {many}")
        if args.repeats < 1 or args.passes < 1:
            raise ValueError(f"--repeats and --passes must be >= 1, got {args.repeats} and {args.passes}")
        frames = sorted((args.sequence / "img").glob("*.jpg"))
        frames = [frames[index] for index in back_and_forth(len(frames), args.passes)] if frames else frames
        if len(frames) < many:
            raise ValueError(f"{args.sequence / 'img'} has {len(frames)} frames to play ({args.passes} passes), "
                             f"--frames asks for {many}")
        init_box = load_boxes(args.sequence / "groundtruth.txt")[0]
        variants = {text: parse_variant(text) for text in args.variants}
        params = {text: with_overrides(get_parameters(param), overrides) for text, (param, overrides, _) in variants.items()}
        device = resolve_device(args.device)
        net = load_network(resolve_checkpoint(args.checkpoint), device=device)
    except (FileNotFoundError, ValueError) as error:
        print(f"bench_video: error: {error}", file=sys.stderr)
        return 2
    print(f"sequence={args.sequence} frames={few},{many} device={device} threads={torch.get_num_threads()}")
    references = [reference_forward(device)]
    results = {}
    for text, (_, _, read_ahead) in variants.items():
        track_seconds(frames[:WARM_UP_FRAMES], init_box, net, params[text], device, read_ahead)  # e.g. compilation
        pairs = [{n: track_seconds(frames[:n], init_box, net, params[text], device, read_ahead) for n in (few, many)}
                 for _ in range(args.repeats)]
        references.append(reference_forward(device))
        frame_ms = [1e3 * (pair[many] - pair[few]) / (many - few) for pair in pairs]
        results[text] = {"T_few": statistics.median(pair[few] for pair in pairs),
                         "T_many": statistics.median(pair[many] for pair in pairs),
                         "frame_ms": statistics.median(frame_ms), "frame_ms_range": [min(frame_ms), max(frame_ms)]}
    reference = statistics.median(references)
    print(f"{'variant':<50}{'T(' + str(few) + ')':>9}{'T(' + str(many) + ')':>9}{'frame':>10}{'range':>16}{'fps':>7}"
          f"{'ratio':>7}")
    for text, result in results.items():
        result["ratio"] = result["frame_ms"] / (1e3 * reference)
        low, high = result["frame_ms_range"]
        print(f"{text:<50}{result['T_few']:>8.1f}s{result['T_many']:>8.1f}s{result['frame_ms']:>8.1f}ms"
              f"{f'{low:.0f}-{high:.0f} ms':>16}{1e3 / result['frame_ms']:>7.1f}{result['ratio']:>7.2f}")
    print(f"ResNet-18 forward (288x288, full): {1e3 * reference:.1f} ms (median of {len(references)} medians)")
    if args.json:
        atomic_write_text(args.json, json.dumps({"reference_ms": 1e3 * reference, "sequence": args.sequence.name,
                                                 "frames": [few, many], "passes": args.passes,
                                                 "repeats": args.repeats, "variants": results}, indent=1) + "\n")
    print("ratio to ResNet-18: " + " ".join(f"{text} {r['ratio']:.2f}" for text, r in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
