"""Train a network: ``atom-ebm train bbreg atom_ebm [options]`` (or ``python -m ltr.run_training ...``).

The settings module is found by its path: ``bbreg atom_ebm`` runs ``ltr.train_settings.bbreg.atom_ebm.run``.
Several GPUs or machines: launch with torchrun, e.g.
``torchrun --nproc_per_node 4 -m ltr.run_training bbreg atom_ebm --batch-size 64``.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import logging
import os
import pkgutil
import sys
from types import ModuleType

import ltr.train_settings
from ltr.admin.paths import DATASET_ROOT_SOURCES, WORKSPACE_ENV, resolve_workspace
from ltr.train_settings.options import TrainingOptions
from ltr.utils.cli_errors import INTERRUPTED, ArgumentParser, run_command

logger = logging.getLogger("ltr.run_training")


def list_settings_packages() -> list[str]:
    """Settings packages under ``ltr.train_settings`` (e.g. ``["bbreg"]``)."""
    return sorted(info.name for info in pkgutil.iter_modules(ltr.train_settings.__path__) if info.ispkg)


def list_settings(module: str) -> list[str]:
    """Settings names of package ``module`` (modules not starting with ``_``)."""
    if module not in list_settings_packages():
        raise ValueError(f"unknown settings package '{module}'; valid: {', '.join(list_settings_packages())}")
    package = importlib.import_module(f"ltr.train_settings.{module}")
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__)
                  if not info.ispkg and not info.name.startswith("_"))


def load_settings(module: str, name: str) -> ModuleType:
    """The settings module ``ltr.train_settings.<module>.<name>`` (must define ``run(settings)``).

    Raises:
        ValueError: unknown package or name; the message lists the valid ones.
    """
    valid = list_settings(module)
    if name not in valid:
        raise ValueError(f"unknown settings '{module}/{name}'; valid names: {', '.join(valid)}")
    settings_module = importlib.import_module(f"ltr.train_settings.{module}.{name}")
    if not callable(getattr(settings_module, "run", None)):
        raise ValueError(f"settings module ltr.train_settings.{module}.{name} has no run(settings) function")
    return settings_module


PROG = "python -m ltr.run_training"


def build_parser(prog: str = PROG) -> ArgumentParser:
    """Command-line interface (``prog``: how the command was called, shown in help and errors).

    The settings named in the help are read from ``ltr/train_settings``, so the list is never out of date.
    """
    parser = ArgumentParser(
        prog=prog,
        # argparse %-formats argument help only, not the description: one % here
        description="Train a network with a settings module from ltr/train_settings/<module>/<name>.py. "
        "Checkpoints: <workspace>/checkpoints/<module>/<name>/ATOMnet_ep%04d.pth.tar; CSV log (and TensorBoard "
        "when installed): <workspace>/logs/<module>/<name>/.",
    )
    packages = list_settings_packages()
    parser.add_argument("module", help=f"settings package: {', '.join(packages)}")
    parser.add_argument("name", help="settings name: " + "; ".join(
        f"{package}: {', '.join(list_settings(package))}" for package in packages))
    parser.add_argument("--workspace", help=f"output root (default: ${WORKSPACE_ENV} or ./workspace)")
    parser.add_argument("--epochs", type=int, help="last epoch to train (default: the settings')")
    parser.add_argument("--samples-per-epoch", type=int, help="training samples per epoch, all processes together")
    parser.add_argument("--batch-size", type=int, help="batch size, all processes together")
    parser.add_argument("--workers", type=int, help="data-loading workers per process (0: load in the main process)")
    parser.add_argument("--seed", type=int, default=0, help="base seed; data depend only on (seed, epoch, index)")
    parser.add_argument("--device", choices=("cuda", "cpu"), help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--resume", action="store_true", help="continue exactly from the newest checkpoint")
    parser.add_argument("--train-backbone", action="store_true",
                        help="also fine-tune the backbone (its own learning rate; BatchNorm layers train)")
    parser.add_argument("--init-checkpoint", help="start from these network weights (checkpoint file or folder)")
    parser.add_argument("--deterministic", action="store_true", help="deterministic algorithms (bit-exact resume)")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True,
                        help="mixed precision on CUDA (default: on)")
    parser.add_argument("--cpu-bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bfloat16 autocast when training on the CPU, about 2x faster (default: on where the CPU "
                             "has bfloat16 units, AVX512-BF16 or AMX)")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                        help="channels-last memory format (default: the settings')")
    parser.add_argument("--grad-clip-norm", type=float, help="clip the gradient norm to this value")
    parser.add_argument("--threads", type=int, help="torch threads per process (default: cores / local processes)")
    parser.add_argument("--keep-checkpoints", type=int, help="keep only the N newest checkpoints")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bars")
    parser.add_argument("--backbone-weights", metavar="FILE",
                        help="ImageNet backbone state dict (default: $ATOM_EBM_BACKBONE_WEIGHTS, else torchvision's "
                             "download)")
    parser.add_argument("--feature-cache", metavar="DIR",
                        help="folder of backbone-feature caches, for settings that cache (default: WORKSPACE/feature_cache)")
    parser.add_argument("--cache-pairs", type=int, metavar="N",
                        help="training pairs to cache, for settings that cache (0: no cache, fresh crops every sample; "
                             "default: the settings')")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    for key, (flag, env_var) in DATASET_ROOT_SOURCES.items():
        parser.add_argument(flag, dest=f"root_{key}", metavar="DIR", help=f"root of the {key} data set (or ${env_var})")
    return parser


def options_from_args(args: argparse.Namespace) -> TrainingOptions:
    """``TrainingOptions`` from parsed command-line arguments."""
    roots = {key: getattr(args, f"root_{key}") for key in DATASET_ROOT_SOURCES if getattr(args, f"root_{key}")}
    return TrainingOptions(
        module=args.module, name=args.name, workspace=resolve_workspace(args.workspace), epochs=args.epochs,
        samples_per_epoch=args.samples_per_epoch, batch_size=args.batch_size, workers=args.workers, seed=args.seed,
        device=args.device, resume=args.resume, train_backbone=args.train_backbone,
        init_checkpoint=args.init_checkpoint, deterministic=args.deterministic, amp=args.amp, cpu_bf16=args.cpu_bf16,
        channels_last=args.channels_last, grad_clip_norm=args.grad_clip_norm, threads=args.threads,
        keep_checkpoints=args.keep_checkpoints, progress=args.progress, dataset_roots=roots,
        backbone_weights=args.backbone_weights, feature_cache=args.feature_cache,
        cache_pairs=args.cache_pairs,
    )


def _run(args: argparse.Namespace, prog: str) -> int:
    rank = int(os.environ.get("RANK", "0") or 0)
    logging.basicConfig(level=args.log_level if rank == 0 else "WARNING",
                        format=f"%(asctime)s [rank {rank}] %(levelname)s %(name)s: %(message)s")
    settings_module = load_settings(args.module, args.name)
    try:
        settings_module.run(options_from_args(args))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; resume with --resume", file=sys.stderr)
        return INTERRUPTED
    return 0


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Entry point: 0 done, 2 bad arguments, settings or data (one line on stderr), 1 a failure while training
    (e.g. a non-finite loss), 130 Ctrl+C."""
    return run_command(build_parser(prog), argv, functools.partial(_run, prog=prog))


if __name__ == "__main__":
    sys.exit(main())
