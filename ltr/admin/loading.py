"""Load an ATOM network from our checkpoints or from legacy pytracking ``.pth``/``.pth.tar`` files.

Our checkpoints (see :mod:`ltr.admin.checkpoint`) are read with ``torch.load(weights_only=True)``. Legacy
pytracking files pickle project objects (``NetConstructor``, ``settings``); they are read through a
restricted unpickler that rebuilds tensors and plain containers only and replaces every other class or
function named in the file by an inert stub, so nothing from the file is ever called. Only ``"net"``
(the state dict) and the constructor's name are used.
"""
from __future__ import annotations

import collections
import copyreg
import logging
import os
import pickle
import types
from pathlib import Path
from typing import Any, Mapping

import torch

from ltr.admin.checkpoint import list_checkpoints, load_checkpoint
from ltr.models.bbreg.atom import ATOMnet
from ltr.models.input_spec import REFERENCE_INPUT_SPEC, InputSpec
from ltr.models.registry import build_model, list_models

__all__ = ["load_network", "load_network_checkpoint", "resolve_checkpoint_path", "load_legacy_checkpoint",
           "load_state_dict_into"]

logger = logging.getLogger(__name__)

#: keys a checkpoint may hold or leave out: backbone stages after layer3, which ATOM never runs and we do not build
OPTIONAL_KEY_PREFIXES = ("feature_extractor.layer4.", "feature_extractor.fc.")
OPTIONAL_KEY_SUFFIXES = (".num_batches_tracked",)


def resolve_checkpoint_path(path: str | os.PathLike) -> Path:
    """A checkpoint file, or the newest epoch (``<name>_epNNNN.pth.tar``, as the trainer writes) in a directory.

    Raises:
        FileNotFoundError: if the path does not exist or the directory holds no epoch checkpoint.
    """
    path = Path(path)
    if path.is_dir():
        epochs = list_checkpoints(path)
        if not epochs:
            raise FileNotFoundError(f"no <name>_epNNNN.pth.tar checkpoint in directory {path}")
        return epochs[-1][1]
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return path


def load_network_checkpoint(path: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The resolved file (``resolve_checkpoint_path``) and its dict, one of our checkpoints or exported models.

    Raises:
        FileNotFoundError: no such file or epoch checkpoint.
        ValueError: not a weights-only checkpoint, or one without ``net`` and ``net_constructor``.
    """
    source = resolve_checkpoint_path(path)
    state = load_checkpoint(source)
    if "net" not in state or "net_constructor" not in state:
        raise ValueError(f"{source}: not one of our checkpoints (needs 'net' and 'net_constructor')")
    return source, state


def load_network(path: str | os.PathLike, device: str | torch.device = "cpu") -> ATOMnet:
    """Build the network stored in a checkpoint and return it in eval mode on ``device``.

    Args:
        path: our checkpoint (``{"net", "net_constructor", ...}``), a legacy pytracking checkpoint, or a
            directory (its newest epoch checkpoint is used).
        device: where to put the network.

    Raises:
        FileNotFoundError: if nothing is found at ``path``.
        ValueError: if the file is neither format or its weights do not fit the network.
    """
    file = resolve_checkpoint_path(path)
    try:
        checkpoint = load_checkpoint(file)
    except ValueError:
        checkpoint = load_legacy_checkpoint(file)
    if "net" not in checkpoint or not isinstance(checkpoint["net"], Mapping):
        raise ValueError(f"{file}: not a network checkpoint (no 'net' state dict; keys: {sorted(map(str, checkpoint))[:10]})")
    state_dict = checkpoint["net"]
    name, kwargs = _constructor(checkpoint, state_dict, file)
    net = build_model(name, **{**kwargs, "backbone_pretrained": False})
    load_state_dict_into(net, state_dict, source=str(file))
    net.input_spec = _input_spec(checkpoint, file)
    net.int8_calibration = _int8_calibration(checkpoint, file)
    logger.info("loaded %s (%s) from %s", name, type(net).__name__, file)
    return net.to(device).eval()


def _constructor(checkpoint: Mapping[str, Any], state_dict: Mapping[str, Any], file: Path) -> tuple[str, dict[str, Any]]:
    """Builder name and keyword arguments: ours from ``net_constructor``, legacy from the stub or the keys."""
    spec = checkpoint.get("net_constructor")
    if spec is not None:
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str) or not isinstance(spec.get("kwargs", {}), Mapping):
            raise ValueError(f"{file}: 'net_constructor' must be {{'name': str, 'kwargs': dict}}, got {spec!r}")
        return spec["name"], dict(spec.get("kwargs", {}))
    legacy = checkpoint.get("constructor")
    legacy_name = getattr(legacy, "fun_name", None)
    if isinstance(legacy_name, str) and legacy_name in list_models():
        return legacy_name, _legacy_head_kwargs(getattr(legacy, "kwds", None))
    if "feature_extractor.layer1.0.conv3.weight" in state_dict:
        return "atom_resnet50", {}
    return "atom_resnet18", {}


def _input_spec(checkpoint: Mapping[str, Any], file: Path) -> InputSpec:
    """The input contract the checkpoint records; the reference one for files without it (older ones, official
    pytracking ones)."""
    recorded = checkpoint.get("input_spec")
    if recorded is None:
        return REFERENCE_INPUT_SPEC
    if not isinstance(recorded, Mapping):
        raise ValueError(f"{file}: 'input_spec' must be a dict, got {type(recorded).__name__}")
    try:
        return InputSpec.from_dict(dict(recorded))
    except ValueError as error:
        raise ValueError(f"{file}: {error}") from None


def _int8_calibration(checkpoint: Mapping[str, Any], file: Path) -> dict[str, torch.Tensor] | None:
    """The backbone's int8 observer state (``ltr.admin.calibrate``), or None for an uncalibrated file."""
    record = checkpoint.get("int8_calibration")
    if record is None:
        return None
    observers = record.get("observers") if isinstance(record, Mapping) else None
    if not isinstance(observers, Mapping) or not all(isinstance(value, torch.Tensor) for value in observers.values()):
        raise ValueError(f"{file}: 'int8_calibration' must hold an 'observers' dict of tensors")
    return dict(observers)


def _legacy_head_kwargs(kwds: Any) -> dict[str, Any]:
    """The IoU-Net width arguments of a legacy ``NetConstructor.kwds``, when they are plain int pairs."""
    if not isinstance(kwds, Mapping):
        return {}
    kwargs = {}
    for key in ("iou_input_dim", "iou_inter_dim"):
        value = kwds.get(key)
        if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
            kwargs[key] = tuple(value)
    return kwargs


def load_state_dict_into(net: torch.nn.Module, state_dict: Mapping[str, Any], source: str = "state dict") -> None:
    """Strictly load ``state_dict`` into ``net``, casting floating tensors to the parameters' dtype.

    Keys under ``OPTIONAL_KEY_PREFIXES`` (stages we do not build) are skipped and BN ``num_batches_tracked`` counters may be missing; any other
    missing or unexpected key, non-tensor value or shape mismatch raises ``ValueError`` naming ``source``.
    """
    own = net.state_dict()
    converted: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key not in own and key.startswith(OPTIONAL_KEY_PREFIXES):
            continue  # a stage our backbone does not build (official checkpoints store layer4 / fc)
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{source}: entry '{key}' is a {type(value).__name__}, not a tensor")
        if key in own and value.is_floating_point() and own[key].is_floating_point():
            value = value.to(own[key].dtype)
        converted[key] = value
    unexpected = sorted(set(converted) - set(own))
    missing = sorted(
        key for key in set(own) - set(converted) if not key.startswith(OPTIONAL_KEY_PREFIXES) and not key.endswith(OPTIONAL_KEY_SUFFIXES)
    )
    mismatched = sorted(key for key in set(own) & set(converted) if own[key].shape != converted[key].shape)
    if unexpected or missing or mismatched:
        raise ValueError(
            f"{source}: weights do not fit {type(net).__name__}: missing {missing[:5]}, unexpected {unexpected[:5]}, "
            f"shape mismatch {mismatched[:5]}"
        )
    net.load_state_dict(converted, strict=False)


# --------------------------------------------------------------------------------------------------
# Restricted unpickling of legacy pytracking checkpoints.

_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): torch._utils._rebuild_parameter_with_state,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
    ("builtins", "object"): object,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
}
_STUBS: dict[tuple[str, str], type] = {}


class _InertStub:
    """Stand-in for any class or function a legacy pickle names: stores its arguments/state, runs nothing."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "_InertStub":
        obj = object.__new__(cls)
        obj.__dict__["_stub_args"] = args
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):
            state = {**state[0], **(state[1] or {})}
        if isinstance(state, dict):
            self.__dict__.update({str(k): v for k, v in state.items()})
        else:
            self.__dict__["_stub_state"] = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__.setdefault("_stub_items", {})[key] = value

    def append(self, value: Any) -> None:
        self.__dict__.setdefault("_stub_list", []).append(value)

    def extend(self, values: Any) -> None:
        self.__dict__.setdefault("_stub_list", []).extend(values)


def _stub(module: str, name: str) -> type:
    key = (module, name)
    if key not in _STUBS:
        _STUBS[key] = type(name, (_InertStub,), {"__module__": f"stub:{module}", "_stub_of": f"{module}.{name}"})
    return _STUBS[key]


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler resolving only tensor-rebuild functions, torch dtypes and plain containers; all else is stubbed."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        return _stub(module, name)


def _restricted_load(file: Any, **kwargs: Any) -> Any:
    return _RestrictedUnpickler(file, **kwargs).load()


# ``torch.load`` needs a module-like object with ``Unpickler`` and ``load``.
_restricted_pickle = types.ModuleType("ltr_restricted_pickle")
_restricted_pickle.Unpickler = _RestrictedUnpickler  # type: ignore[attr-defined]
_restricted_pickle.load = _restricted_load  # type: ignore[attr-defined]


def load_legacy_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a legacy pytracking checkpoint dict without executing anything from it.

    Returns:
        The unpickled top-level dict; project objects (``constructor``, ``settings``, ...) are inert stubs
        whose attributes hold their pickled state (e.g. ``constructor.fun_name``).

    Raises:
        ValueError: if the file cannot be read this way or does not hold a dict.
    """
    path = Path(path)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False, pickle_module=_restricted_pickle)
    except Exception as error:  # any parse failure of an untrusted file becomes one clear error
        raise ValueError(f"{path}: neither our checkpoint format nor a readable pytracking checkpoint ({type(error).__name__}: {error})") from error
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path}: neither our checkpoint format nor a pytracking checkpoint dict (got {type(checkpoint).__name__})")
    return checkpoint
