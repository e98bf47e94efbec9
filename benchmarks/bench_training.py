"""Training throughput: samples/s of the data pipeline alone and of a training step (CPU, and CUDA when present).

    python benchmarks/bench_training.py --batch-size 8 --iterations 5 --workers 0
    python benchmarks/bench_training.py --device cuda --batch-size 64 --iterations 20 --workers 8 --train-backbone

Data pipeline: ``ATOMSampler`` over the atom_ebm_synthetic data (procedural sequences + local real ones) with the
EBM processing (288 px crops, 128 GMM proposals), through ``build_loader``. Training step: the ATOM ResNet-18
network with the EBM actor, Adam, forward + backward + step on one fixed batch already on the device (AMP and
channels-last on CUDA as in the settings). Prints one table row per measurement.
"""
from __future__ import annotations

import argparse
import logging
import time
from dataclasses import replace

import torch

from ltr.actors import build_actor
from ltr.admin.paths import resolve_workspace
from ltr.data.loader import build_loader
from ltr.data.sampler import ATOMSampler
from ltr.models.registry import build_model
from ltr.train_settings.bbreg import atom_ebm_synthetic
from ltr.train_settings.bbreg_recipe import build_processing, configure_trainable
from ltr.train_settings.options import TrainingOptions
from ltr.trainers.trainer import move_batch


def _sampler(objective: str, samples: int) -> ATOMSampler:
    """The atom_ebm_synthetic training data with the processing of ``objective``."""
    options = TrainingOptions(module="bbreg", name="atom_ebm_synthetic", workspace=resolve_workspace(None))
    recipe = replace(atom_ebm_synthetic.RECIPE, objective=objective)
    pairs = recipe.train_datasets(options)
    sampler = ATOMSampler([d for d, _ in pairs], [w for _, w in pairs], samples_per_epoch=samples,
                          max_gap=recipe.max_gap, processing=build_processing(recipe), seed=0)
    sampler.set_epoch(1)
    return sampler


def bench_data(batch_size: int, iterations: int, workers: int, objective: str) -> float:
    """Samples/s of sampling + decoding/rendering + cropping + proposals, batched by the DataLoader."""
    loader = build_loader(_sampler(objective, batch_size * (iterations + 1)), batch_size=batch_size, workers=workers, seed=0)
    loader.sampler.set_epoch(1)
    iterator = iter(loader)
    next(iterator)  # warm-up: worker start, texture caches
    start = time.perf_counter()
    count = sum(1 for _ in iterator)
    return count * batch_size / (time.perf_counter() - start)


def bench_step(device: torch.device, batch_size: int, iterations: int, objective: str, train_backbone: bool,
               channels_last: bool, amp: bool) -> float:
    """Samples/s of forward + backward + Adam step on one fixed batch already on ``device``."""
    recipe = atom_ebm_synthetic.RECIPE
    batch = next(iter(build_loader(_sampler(objective, batch_size), batch_size=batch_size, workers=0, seed=0)))
    batch = move_batch(batch, device, channels_last)
    torch.manual_seed(0)
    net = build_model(recipe.net_name)
    head, backbone = configure_trainable(net, train_backbone)
    net = net.to(device, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    actor = build_actor(objective, net, train_backbone=train_backbone)
    actor.train(True)
    groups = [{"params": head}] + ([{"params": backbone, "lr": recipe.backbone_lr}] if backbone else [])
    optimizer = torch.optim.Adam(groups, lr=recipe.lr)
    use_amp = amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.float16, enabled=use_amp):
            loss, _ = actor(batch)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    step()  # warm-up (cuDNN autotuning, allocator)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return iterations * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all", help="all: CPU and CUDA if present")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--objective", choices=("ebm", "iou", "kl"), default="ebm")
    parser.add_argument("--train-backbone", action="store_true")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                        help="default: on for CUDA, off for CPU (as the settings)")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--skip-data", action="store_true", help="only time the training step")
    parser.add_argument("--skip-step", action="store_true", help="only time the data pipeline")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.device == "all" else [args.device]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}, "
          f"{args.iterations} iterations, objective {args.objective}, backbone "
          f"{'trained' if args.train_backbone else 'frozen'}")
    print(f"{'measurement':<44} {'samples/s':>10}")
    if not args.skip_data:
        rate = bench_data(args.batch_size, args.iterations, args.workers, args.objective)
        print(f"{f'data pipeline ({args.workers} workers)':<44} {rate:>10.2f}")
    for name in [] if args.skip_step else devices:
        device = torch.device(name)
        channels_last = args.channels_last if args.channels_last is not None else device.type == "cuda"
        rate = bench_step(device, args.batch_size, args.iterations, args.objective, args.train_backbone,
                          channels_last, args.amp)
        label = f"training step {name}" + (" amp" if args.amp and name == "cuda" else "") + \
            (" channels_last" if channels_last else "")
        print(f"{label:<44} {rate:>10.2f}")


if __name__ == "__main__":
    main()
