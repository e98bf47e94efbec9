"""IoU-Net training throughput with and without the backbone-feature cache (CPU, and CUDA when asked).

    python benchmarks/bench_training.py                        # atom_ebm_real data, batch 16, 128 proposals
    python benchmarks/bench_training.py --device cuda --batch-size 64 --workers 8

Both loops run the same training step of the ``atom_ebm_real`` recipe (ImageNet ResNet-18 from the shared weights
file when present, frozen; EBM NLL on 128 GMM proposals per pair; Adam) on its real training data:

* uncached: DataLoader over ``ATOMSampler`` (decode, crop, augment) -> backbone -> IoU-Net forward/backward/step;
* cached: the same pairs' features are first cached (``ltr.data.feature_cache``, timed separately, in a temporary
  folder) -> DataLoader over ``CachedPairDataset`` (memory-mapped fp16 features, fresh proposals) -> IoU-Net step.

Each loop runs in every ``--precision`` (``fp32``; ``bf16``: bfloat16 autocast, as ``atom-ebm train --cpu-bf16`` on
the CPU, float16 autocast on CUDA as ``--amp``). Samples/s exclude one warm-up iteration. The last line is
``samples/s uncached X cached Y`` for the first precision given (default: the training default first, bf16 where
the CPU has bfloat16 units, ``ltr.utils.cpu.has_bfloat16_units``).
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time
from dataclasses import replace

import torch

from ltr.actors import build_actor
from ltr.admin.paths import resolve_workspace
from ltr.data.feature_cache import CachedPairDataset, build_feature_cache
from ltr.data.loader import build_loader
from ltr.models.backbone.resnet import state_dict_sha256
from ltr.train_settings.bbreg import atom_ebm_real
from ltr.train_settings.bbreg_recipe import (
    build_network,
    build_processing,
    build_sampler,
    configure_trainable,
)
from ltr.train_settings.options import TrainingOptions
from ltr.trainers.trainer import move_batch
from ltr.utils.cpu import has_bfloat16_units


def timed_training(loader, actor, optimizer, device: torch.device, iterations: int, precision: str) -> float:
    """Samples/s of ``iterations`` steps (loading included) after one warm-up step, in ``precision``."""
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    batches = iter(loader)
    count, start = 0, 0.0
    for step in range(iterations + 1):
        if step == 1:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
        batch = move_batch(next(batches), device)
        with torch.autocast(device.type, dtype=dtype, enabled=precision == "bf16"):
            loss, _ = actor(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        count += len(batch["train_boxes"]) if step else 0
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--iterations", type=int, default=4, help="timed steps per loop")
    parser.add_argument("--workers", type=int, default=1, help="data-loading processes")
    parser.add_argument("--objective", choices=("ebm", "iou"), default="ebm")
    parser.add_argument("--precision", nargs="+", choices=("fp32", "bf16"),
                        default=["bf16", "fp32"] if has_bfloat16_units() else ["fp32", "bf16"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    device = torch.device(args.device)
    pairs = args.batch_size * (args.iterations + 1)
    recipe = replace(atom_ebm_real.RECIPE, objective=args.objective, feature_cache_pairs=pairs)
    options = TrainingOptions(module="bbreg", name="atom_ebm_real", workspace=resolve_workspace(None))
    processing = build_processing(recipe)
    sampler = build_sampler(recipe, recipe.train_datasets(options), processing, pairs, seed=0)
    torch.manual_seed(0)
    net = build_network(recipe, options)
    head, _ = configure_trainable(net, train_backbone=False)
    net = net.to(device)
    actor = build_actor(args.objective, net)
    actor.train(True)
    optimizer = torch.optim.Adam(head, lr=recipe.lr)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}, batch {args.batch_size}, "
          f"{recipe.num_proposals} proposals, objective {args.objective}, {args.workers} loader workers")

    uncached, cached = {}, {}
    for precision in args.precision:
        loader = build_loader(sampler, args.batch_size, args.workers, seed=0)
        uncached[precision] = timed_training(loader, actor, optimizer, device, args.iterations, precision)
        print(f"{'uncached (data + backbone + IoU-Net), ' + precision:<44} {uncached[precision]:>8.2f} samples/s")
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        backbone = net.feature_extractor.eval()
        cache = build_feature_cache(folder, "bench", sampler, backbone, state_dict_sha256(backbone), pairs,
                                    batch_size=args.batch_size, workers=args.workers, progress=False)
        build_rate = pairs / (time.perf_counter() - start)
        print(f"{'cache build (decode, crop, backbone, write)':<44} {build_rate:>8.2f} pairs/s")
        cached_set = CachedPairDataset(cache, processing, seed=0)
        for precision in args.precision:
            loader = build_loader(cached_set, args.batch_size, args.workers, seed=0)
            cached[precision] = timed_training(loader, actor, optimizer, device, args.iterations, precision)
            print(f"{'cached (features from disk + IoU-Net), ' + precision:<44} {cached[precision]:>8.2f} samples/s")
    first = args.precision[0]
    print(f"samples/s uncached {uncached[first]:.2f} cached {cached[first]:.2f}")


if __name__ == "__main__":
    main()
