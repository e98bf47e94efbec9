"""Named parameter sets of the ATOM-EBM tracker: ``get_parameters("default")``.

Each module here defines ``parameters() -> AtomEbmParams``; the module name is the parameter-set name
(``--param default`` loads ``trackers/atom_ebm/parameters/default.py``).
"""
from __future__ import annotations

import importlib
import pkgutil

from trackers.atom_ebm.params import AtomEbmParams


def list_parameter_sets() -> list[str]:
    """Names of the available parameter sets (the modules of this package): ``default`` first, then alphabetical."""
    names = sorted(module.name for module in pkgutil.iter_modules(__path__) if not module.ispkg)
    return sorted(names, key=lambda name: name != "default")


def get_parameters(name: str) -> AtomEbmParams:
    """The parameter set ``name``; ``ValueError`` listing the valid names for an unknown one."""
    names = list_parameter_sets()
    if name not in names:
        raise ValueError(f"unknown atom_ebm parameter set '{name}'; valid: {', '.join(names)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.parameters()
