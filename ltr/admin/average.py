"""Average two networks' weights: ``(1 - weight) * A + weight * B`` (a "model soup" of a network and a fine-tuned copy).

    atom-ebm average A B OUT [--weight 0.5]     (or python -m ltr.admin.average ...)

A network fine-tuned from another stays in the same basin of the loss, so the average of the two weights is a
network too; on small data it keeps what the first one learned and takes the second's new data (Wortsman et al.,
"Robust fine-tuning of zero-shot models", CVPR 2022; "Model soups", ICML 2022). Networks trained from different
initialisations do not average: only use it for a network and its fine-tuned descendant.

A and B are our checkpoints or exported models with the same ``net_constructor`` and the same state-dict keys and
shapes. Floating-point tensors are averaged in float32, BatchNorm's batch counters come from B, other tensors must be
equal. ``OUT`` is a checkpoint for ``atom-ebm export`` (``net``, ``net_constructor``, ``input_spec`` of A,
``averaged_from``: both parents' file names, their epochs and the weight), written atomically; an int8 calibration
is not carried over (run ``atom-ebm calibrate`` on the exported model).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ltr.admin.checkpoint import save_checkpoint
from ltr.admin.loading import load_network_checkpoint
from ltr.utils.cli_errors import ArgumentParser, run_command


def average_state_dicts(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], weight: float
                        ) -> dict[str, torch.Tensor]:
    """``(1 - weight) * a + weight * b`` per floating-point tensor (float32); BatchNorm's batch counters
    (``num_batches_tracked``, used only by cumulative-average BatchNorm) from ``b``, which trained on; other tensors
    must be equal.

    Raises:
        ValueError: different keys, a shape differs, or another non-floating-point tensor differs.
    """
    if a.keys() != b.keys():
        only = sorted(a.keys() ^ b.keys())
        raise ValueError(f"the networks have different weights ({len(only)} keys in one only, e.g. {only[0]})")
    averaged = {}
    for key, tensor in a.items():
        other = b[key]
        if tensor.shape != other.shape:
            raise ValueError(f"{key}: shape {tuple(tensor.shape)} against {tuple(other.shape)}")
        if tensor.is_floating_point():
            averaged[key] = torch.lerp(tensor.float(), other.float(), weight)
        elif key.endswith("num_batches_tracked") or torch.equal(tensor, other):
            averaged[key] = other
        else:
            raise ValueError(f"{key}: the non-floating-point values differ")
    return averaged


def average_checkpoints(first: str | Path, second: str | Path, out: str | Path, weight: float = 0.5) -> None:
    """Write the weight average of checkpoints ``first`` (A) and ``second`` (B) to ``out`` (see the module doc).

    Raises:
        ValueError: ``weight`` outside [0, 1], a file that is not one of our checkpoints, or networks that differ.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"--weight must be in [0, 1], got {weight}")
    paths, states = zip(*(load_network_checkpoint(path) for path in (first, second)))
    if states[0]["net_constructor"] != states[1]["net_constructor"]:
        raise ValueError(f"{paths[0]} and {paths[1]} build different networks (net_constructor)")
    averaged: dict[str, Any] = {
        "net": average_state_dicts(states[0]["net"], states[1]["net"], weight),
        "net_constructor": states[0]["net_constructor"],
        "epoch": 0,
        "averaged_from": {"a": paths[0].name, "b": paths[1].name, "weight_of_b": weight,
                          "epochs": [state.get("epoch", 0) for state in states]},
    }
    if "input_spec" in states[0]:
        averaged["input_spec"] = states[0]["input_spec"]
    save_checkpoint(out, averaged)


def main(argv: Sequence[str] | None = None, prog: str = "python -m ltr.admin.average") -> int:
    """Entry point: 0 written, 2 a bad file or argument (one line on stderr), 1 a failure while writing."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("first", help="network A: checkpoint or exported model")
    parser.add_argument("second", help="network B, fine-tuned from A")
    parser.add_argument("out", type=Path, help="checkpoint to write (for atom-ebm export)")
    parser.add_argument("--weight", type=float, default=0.5, help="B's share of the average (default 0.5)")
    return run_command(parser, argv, _average)


def _average(args) -> int:
    average_checkpoints(args.first, args.second, args.out, args.weight)
    print(f"wrote {args.out} ({1 - args.weight:g} x {args.first} + {args.weight:g} x {args.second})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
