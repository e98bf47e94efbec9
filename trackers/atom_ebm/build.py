"""Build the ATOM-EBM tracker from a parameter-set name and a checkpoint (the registry's ``atom_ebm`` builder)."""
from __future__ import annotations

from dataclasses import replace

import torch

from ltr.admin.loading import load_network
from ltr.utils.device import resolve_device
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import resolve_checkpoint


def build_tracker(*, param: str = "default", checkpoint: str | None = None,
                  device: str | torch.device | None = None, precision: str | None = None) -> AtomEbmTracker:
    """Build the tracker with parameter set ``param`` and the network from ``checkpoint``.

    ``checkpoint`` None -> $ATOM_EBM_CHECKPOINT -> bundled default (see ``trackers.atom_ebm.weights``);
    ``precision`` (``AtomEbmParams.precision``) None -> the parameter set's.
    """
    params = get_parameters(param)
    if precision is not None:
        params = replace(params, precision=precision)
    resolved = resolve_device(device)
    net = load_network(resolve_checkpoint(checkpoint), device=resolved)
    return AtomEbmTracker(net, params, device=resolved)
