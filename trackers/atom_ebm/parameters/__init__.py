"""Named parameter sets of the ATOM-EBM tracker: ``get_parameters("default")``.

Each module here defines ``parameters() -> AtomEbmParams``; the module name is the parameter-set name
(``--param default`` loads ``trackers/atom_ebm/parameters/default.py``).
"""
from __future__ import annotations

import importlib

from trackers.atom_ebm.params import AtomEbmParams

PARAMETER_SETS = ("default", "always_refine", "atom_baseline", "no_refine", "fast")


def list_parameter_sets() -> list[str]:
    """Names of the available parameter sets."""
    return list(PARAMETER_SETS)


def get_parameters(name: str) -> AtomEbmParams:
    """The parameter set ``name``; ``ValueError`` listing the valid names for an unknown one."""
    if name not in PARAMETER_SETS:
        raise ValueError(f"unknown atom_ebm parameter set '{name}'; valid: {', '.join(PARAMETER_SETS)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.parameters()
