"""Training curve: train a bbreg settings for a few epochs (or read an existing CSV log) and plot the losses.

    # short CPU run at reduced resolution (96 px crops, 16 proposals), then the PNG
    python experiments/train_curve.py --settings atom_ebm_synthetic --epochs 8 --samples-per-epoch 64 \
        --batch-size 4 --output-sz 96 --num-proposals 16 --workspace /tmp/curve --out curve.png
    # plot the log of a real run, or overlay several (e.g. fp32 and --cpu-bf16 runs from the same seeds)
    python experiments/train_curve.py --from-csv A/training_log.csv B/training_log.csv --labels "fp32 seed 0" \
        "bf16 seed 0" --out curve.png

The plot shows the mean training loss per epoch (dashed) and the loss on the fixed held-out validation samples
(solid), one colour per run.
"""
from __future__ import annotations

import argparse
import csv
import importlib
import logging
import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ltr.utils.files import atomic_write  # noqa: E402


def read_csv_log(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``training_log.csv`` with numbers parsed (empty cells dropped)."""
    with open(path, newline="") as handle:
        return [{key: float(value) for key, value in row.items() if value != ""} for row in csv.DictReader(handle)]


def plot_history(runs: dict[str, Sequence[dict[str, Any]]], out: Path, title: str) -> None:
    """Write a PNG with the ``train/Loss/*`` (dashed) and ``val/Loss/*`` (solid) columns (except ``Loss/total``)
    per epoch of every run (label -> history), one colour per run."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for colour, (label, history) in enumerate(runs.items()):
        keys = sorted({key for row in history for key in row
                       if key.startswith(("train/Loss/", "val/Loss/")) and not key.endswith("/total")})
        if not keys:
            raise ValueError(f"the log of {label!r} has no train/Loss/* or val/Loss/* column")
        for key in keys:
            points = [(row["epoch"], row[key]) for row in history if key in row and math.isfinite(row[key])]
            name = key if len(runs) == 1 else f"{label}: {key.split('/')[0]}"
            axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=f"C{colour}",
                      linestyle="--" if key.startswith("train/") else "-", label=name)
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    atomic_write(out, lambda tmp: figure.savefig(tmp, format="png", dpi=120))
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-csv", type=Path, nargs="+", help="plot these training_log.csv files instead of training")
    parser.add_argument("--labels", nargs="+", help="one label per --from-csv file (default: their folder names)")
    parser.add_argument("--title", help="plot title (default: the settings, or the first log's folder)")
    parser.add_argument("--settings", default="atom_ebm_synthetic", help="bbreg settings name")
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/atom_ebm_curve"))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples-per-epoch", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--output-sz", type=int, help="crop size (default: the settings', 288)")
    parser.add_argument("--num-proposals", type=int, help="proposals per frame (default: the settings', 128)")
    parser.add_argument("--lr-step", type=int, help="StepLR step in epochs (default: the settings')")
    parser.add_argument("--device", choices=("cpu", "cuda"))
    parser.add_argument("--train-backbone", action="store_true")
    parser.add_argument("--resume", action="store_true", help="continue the run in --workspace")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("train_curve.png"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if args.from_csv:
        labels = args.labels or [path.parent.name for path in args.from_csv]
        if len(labels) != len(args.from_csv):
            parser.error(f"--labels needs one label per --from-csv file ({len(args.from_csv)}), got {len(labels)}")
        runs = {label: read_csv_log(path) for label, path in zip(labels, args.from_csv)}
        title = args.title or args.from_csv[0].parent.name
    else:
        from ltr.train_settings.bbreg_recipe import run_bbreg
        from ltr.train_settings.options import TrainingOptions

        recipe = importlib.import_module(f"ltr.train_settings.bbreg.{args.settings}").RECIPE
        changes = {"output_sz": args.output_sz, "num_proposals": args.num_proposals, "lr_step": args.lr_step}
        recipe = replace(recipe, **{key: value for key, value in changes.items() if value is not None})
        options = TrainingOptions(module="bbreg", name=args.settings, workspace=args.workspace, epochs=args.epochs,
                                  samples_per_epoch=args.samples_per_epoch, batch_size=args.batch_size,
                                  workers=args.workers, seed=args.seed, device=args.device,
                                  train_backbone=args.train_backbone, resume=args.resume)
        runs = {args.settings: run_bbreg(options, recipe)}
        title = args.title or f"{args.settings} ({recipe.output_sz} px, {recipe.num_proposals} proposals)"
    plot_history(runs, args.out, title)
    for label, history in runs.items():
        for row in history:
            logging.info("%s epoch %d: %s", label, int(row["epoch"]), ", ".join(
                f"{k} {v:.4f}" for k, v in row.items() if "Loss/" in k and not k.endswith("/total")))
    logging.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
