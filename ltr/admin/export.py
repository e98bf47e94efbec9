"""Export a trained checkpoint as a compact tracking model: weights only, unused layers dropped, optional fp16.

    atom-ebm export CHECKPOINT OUT.pth [--fp16] [--info INFO.json]     (or python -m ltr.admin.export ...)

Keeps ``net`` (without ``feature_extractor.layer4.*`` / ``feature_extractor.fc.*``, which tracking never runs),
``net_constructor``, the input contract and the int8 calibration (``atom-ebm calibrate``); drops optimizer,
scheduler and RNG state. ``ltr.admin.loading.load_network`` reads the result (fp16 tensors are cast back to float32
on load). ``--info`` writes a JSON description next to it: the training options, recipe and per-epoch log of the
source checkpoint, so the model's provenance ships with it.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ltr.admin.checkpoint import save_checkpoint
from ltr.admin.loading import OPTIONAL_KEY_PREFIXES, load_network, load_network_checkpoint
from ltr.utils.cli_errors import ArgumentParser, run_command
from ltr.utils.files import atomic_write_text

PROVENANCE_KEYS = ("epoch", "settings", "objective", "options", "recipe", "history", "averaged_from")


def export_model(checkpoint: str | Path, out: str | Path, *, fp16: bool = False) -> dict[str, Any]:
    """Write the compact model to ``out``; return the source checkpoint's JSON-able provenance fields."""
    source, state = load_network_checkpoint(checkpoint)
    net = {
        key: (value.half() if fp16 and value.is_floating_point() else value)
        for key, value in state["net"].items()
        if not key.startswith(OPTIONAL_KEY_PREFIXES)
    }
    compact = {"net": net, "net_constructor": state["net_constructor"], "epoch": state.get("epoch", 0)}
    for key in ("input_spec", "int8_calibration"):
        if key in state:
            compact[key] = state[key]
    save_checkpoint(out, compact)
    load_network(out)  # the exported file must load into the full network
    provenance = {key: state[key] for key in PROVENANCE_KEYS if key in state}
    provenance["source_checkpoint"] = source.name
    return provenance


def main(argv: Sequence[str] | None = None, prog: str = "python -m ltr.admin.export") -> int:
    """Entry point: 0 written, 2 a bad checkpoint or argument (one line on stderr), 1 a failure while writing."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", help="training checkpoint file or folder (its newest *.pth.tar)")
    parser.add_argument("out", type=Path, help="compact model file to write")
    parser.add_argument("--fp16", action="store_true", help="store floating-point tensors as float16")
    parser.add_argument("--info", type=Path, help="also write the provenance JSON here")
    return run_command(parser, argv, _export)


def _export(args) -> int:
    provenance = export_model(args.checkpoint, args.out, fp16=args.fp16)
    if args.info:
        atomic_write_text(args.info, json.dumps(provenance, indent=2, default=_jsonable) + "\n")
    size_mb = args.out.stat().st_size / 2**20
    print(f"wrote {args.out} ({size_mb:.1f} MiB)")
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
