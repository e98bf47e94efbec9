"""GPU checks of the ATOM-EBM tracker, in about 3 minutes on one GPU (run through ``benchmarks/gpu_check.sh``).

1. CUDA against CPU: ``default`` on the bundled *Couple* sequence on both devices, same seed. Floating-point
   differences may move a box by a fraction of a pixel and tracking can amplify that, so the check is "close":
   mean IoU between the two box sequences >= 0.8 and AUCs (against the ground truth) within 5 points.
2. Graph against eager: the S1 loop replayed as CUDA graphs of the eager kernels (``compile_refinement=cudagraphs``)
   must give the eager boxes (max difference <= 1e-3 px), both with fixed shapes (``iou_window_margin=None``).
3. End-to-end frames per second of ``python -m pytracking.run_video`` on 1280x720 JPEGs for ``default``, ``fast`` and
   ``default`` with CUDA graphs (``benchmarks/bench_video.py``; the goal for ``default`` is >= 150 fps).

Exit status 0 when checks 1 and 2 pass, 1 otherwise, 2 without CUDA. ``--device cpu`` dry-runs checks 1 and 3
(check 2 needs CUDA), so the script itself can be exercised on a machine without a GPU.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks.bench_video import main as bench_video_main
from ltr.admin.loading import load_network
from ltr.utils.box_io import load_boxes
from pytracking.analysis.metrics import iou_continuous, sequence_metrics
from pytracking.run_video import track_video
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import with_overrides
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import resolve_checkpoint

COUPLE = Path(__file__).resolve().parents[1] / "pytracking" / "demo_data" / "Couple"
FIXED_SHAPES = {"iou_window_margin": None}


def couple_ground_truth() -> np.ndarray:
    """0-based [N, 4] ground truth of the bundled Couple sequence (OTB files are 1-based)."""
    return load_boxes(COUPLE / "groundtruth.txt") - np.array([1.0, 1.0, 0.0, 0.0])


def track_couple(net, params, device: str) -> np.ndarray:
    """0-based boxes of the tracker on the bundled Couple sequence (seed 0)."""
    torch.manual_seed(0)
    return track_video(COUPLE / "img", init_box=couple_ground_truth()[0], tracker=AtomEbmTracker(net, params, device))


def auc(boxes: np.ndarray) -> float:
    return sequence_metrics(boxes, couple_ground_truth(), dataset="otb")["auc"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu for a dry run")
    parser.add_argument("--checkpoint", help="network (default: $ATOM_EBM_CHECKPOINT, then the bundled model)")
    args = parser.parse_args(argv)
    on_cuda = args.device.startswith("cuda")
    if on_cuda and not torch.cuda.is_available():
        print("gpu_check: error: CUDA is not available (use --device cpu for a dry run)", file=sys.stderr)
        return 2
    net = load_network(resolve_checkpoint(args.checkpoint), device="cpu")
    default = with_overrides(get_parameters("default"), {"precision": "fp32"})  # CUDA runs fp32: compare like with like
    failures = []

    cpu_boxes = track_couple(net, default, "cpu")
    device_boxes = track_couple(net, default, args.device)
    overlap = float(iou_continuous(cpu_boxes, device_boxes).mean())
    auc_cpu, auc_device = auc(cpu_boxes), auc(device_boxes)
    print(f"[1] {args.device} vs CPU on Couple: mean IoU between the boxes {overlap:.3f}; "
          f"AUC {auc_device:.1f} vs {auc_cpu:.1f}")
    if overlap < 0.8 or abs(auc_device - auc_cpu) > 5.0:
        failures.append("CUDA boxes are not close to the CPU boxes")

    if on_cuda:
        eager = track_couple(net, with_overrides(default, FIXED_SHAPES), args.device)
        graphs = track_couple(net, with_overrides(default, {**FIXED_SHAPES, "compile_refinement": "cudagraphs"}),
                              args.device)
        difference = float(np.abs(graphs - eager).max())
        print(f"[2] CUDA graphs vs eager S1: max box difference {difference:.2e} px")
        if difference > 1e-3:
            failures.append("the CUDA-graph S1 loop differs from the eager one")

    variants = ["default", "fast"]
    if on_cuda:
        variants.append("default:iou_window_margin=None,compile_refinement=cudagraphs")
    with tempfile.TemporaryDirectory() as folder:
        print("[3] end-to-end speed (frames per second in the fps column):")
        bench_video_main(["--device", args.device, "--variants", *variants, "--json", str(Path(folder) / "fps.json")]
                         + (["--checkpoint", args.checkpoint] if args.checkpoint else []))
    for failure in failures:
        print(f"gpu_check: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
