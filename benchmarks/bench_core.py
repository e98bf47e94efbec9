"""Time the differentiable core relative to one ResNet-18 forward (layer2 + layer3, 288x288, batch 1).

Measures on the CPU and, when present, on CUDA:
  * prroi_pool2d forward + backward (features and boxes) for 1, 16 and 128 boxes, 5x5 bins, on an
    18x18x256 map (batch 1, spatial scale 1/16);
  * one Algorithm S1 iteration (one forward+backward and one forward) for 10 boxes through a randomly
    initialised IoU-Net head with precomputed IoU features, in the relative box space: once through
    ``AtomIoUNet.predict_iou`` (the general path) and once through ``IoUPredictor`` (the tracker's path:
    BatchNorm folded, features laid out for pooling once per frame).

Usage: python benchmarks/bench_core.py [--device cpu|cuda|all] [--min-run-time 1.0] [--threads N]
Prints one table per device (medians of torch.utils.benchmark.Timer after warm-up).
"""
from __future__ import annotations

import argparse
import sys

import torch
from torch.utils.benchmark import Timer

from ltr.data.box_ops import rel_to_xywh, xywh_to_rel
from ltr.models.backbone.resnet import resnet18
from ltr.models.bbreg.atom_iou_net import AtomIoUNet
from ltr.models.bbreg.iou_predictor import IoUPredictor
from ltr.models.layers.prroi_pool import prroi_pool2d
from trackers.refinement import gradient_ascent


def _median_seconds(fn, device: torch.device, min_run_time: float) -> float:
    def run() -> None:
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(3):  # warm-up
        run()
    return Timer(stmt="run()", globals={"run": run}).blocked_autorange(min_run_time=min_run_time).median


def bench_device(device: torch.device, min_run_time: float) -> list[tuple[str, float]]:
    """Rows (name, median seconds); the first row is the ResNet-18 reference."""
    generator = torch.Generator().manual_seed(0)
    rows: list[tuple[str, float]] = []

    backbone = resnet18(output_layers=("layer2", "layer3")).to(device).eval()
    image = torch.randn(1, 3, 288, 288, generator=generator).to(device)

    def backbone_forward() -> None:
        with torch.no_grad():
            backbone(image)

    rows.append(("resnet18 layer2+layer3 forward 288x288", _median_seconds(backbone_forward, device, min_run_time)))

    features = torch.randn(1, 256, 18, 18, generator=generator).to(device).requires_grad_(True)
    for num in (1, 16, 128):
        xy = torch.rand(num, 2, generator=generator) * 200
        wh = 20 + torch.rand(num, 2, generator=generator) * 80
        coords = torch.cat((xy, xy + wh), dim=1).to(device).requires_grad_(True)
        batch_idx = torch.zeros(num, 1, device=device)

        def pool_forward_backward() -> None:
            out = prroi_pool2d(features, torch.cat((batch_idx, coords), dim=1), 5, 1 / 16)
            torch.autograd.grad(out.sum(), (features, coords))

        rows.append((f"prroi_pool2d fwd+bwd, {num} boxes, 5x5 bins", _median_seconds(pool_forward_backward, device, min_run_time)))

    head = AtomIoUNet().to(device).eval()
    with torch.no_grad():
        feats = backbone(image)
        ref_box = torch.tensor([[115.0, 110.0, 58.0, 70.0]], device=device)
        modulation = head.get_modulation(list(feats.values()), ref_box)
        iou_feats = head.get_iou_feat(list(feats.values()))
    boxes = ref_box + torch.randn(10, 4, generator=generator).to(device) * torch.tensor([4.0, 4.0, 3.0, 3.0], device=device)
    size_norm = ref_box[:, 2:]
    y0 = xywh_to_rel(boxes, size_norm)
    step = torch.tensor([2e-4, 2e-4, 1e-3, 1e-3], device=device)

    def score_fn(rel: torch.Tensor) -> torch.Tensor:
        return head.predict_iou(modulation, iou_feats, rel_to_xywh(rel, size_norm).unsqueeze(0)).squeeze(0)

    def s1_iteration() -> None:
        with torch.no_grad():
            gradient_ascent(score_fn, y0, 1, step, 0.5)

    rows.append(("S1 iteration, 10 boxes, predict_iou", _median_seconds(s1_iteration, device, min_run_time)))

    predictor = IoUPredictor(head, modulation)
    prepared = predictor.prepare(iou_feats)

    def tracker_score_fn(rel: torch.Tensor) -> torch.Tensor:
        return predictor.score(prepared, rel_to_xywh(rel, size_norm).unsqueeze(0)).squeeze(0)

    def s1_iteration_tracker() -> None:
        with torch.no_grad():
            gradient_ascent(tracker_score_fn, y0, 1, step, 0.5)

    rows.append(("S1 iteration, 10 boxes, IoUPredictor", _median_seconds(s1_iteration_tracker, device, min_run_time)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all", help="cpu, cuda, or all available (default)")
    parser.add_argument("--min-run-time", type=float, default=1.0, help="seconds of timing per measurement")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's default)")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench_core: CUDA requested but not available", file=sys.stderr)
        return 2
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")] if args.device in ("cpu", "all") else []
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    for device in devices:
        rows = bench_device(device, args.min_run_time)
        reference = rows[0][1]
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
        print(f"\n{device.type} ({name}), torch {torch.__version__}")
        print(f"{'measurement':<50} {'median ms':>10} {'x resnet18':>11}")
        for label, seconds in rows:
            print(f"{label:<50} {seconds * 1e3:>10.3f} {seconds / reference:>11.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
