"""The backbone passes of tracking (classifier crops, IoU-Net crops) at a chosen precision.

* ``"fp32"``: the network's own eager float32 forward (the CUDA path, and the reference).
* ``"bf16"``: bfloat16 autocast, compiled by inductor (CPUs with BF16 units, e.g. AVX512-BF16 / AMX).
* ``"int8"``: static int8 from the model file's calibration (``atom-ebm calibrate``), compiled by inductor with
  frozen weights (VNNI kernels on x86).

With a reduced precision the IoU-Net head also runs its test-feature convolutions and S1's fully connected layers
in bfloat16 (``trackers.atom_ebm.iou_refinement``).

Compiled precisions build one graph per square crop side on first use and run batches image by image (one compiled
shape a side: the first frame's augmented batch costs no extra compilation). The graphs freeze the weights and
belong to the network object: trackers built on it in one process share them (load a network anew after changing
its weights). The compiled kernels are kept on disk in a folder of their own (``engine_cache_dir``: named by the
precision, a sha256 of the backbone weights and int8 calibration, and the torch / torchao versions; under
``$ATOM_EBM_ENGINE_CACHE``, else inductor's cache directory), so a second process with the same model starts much
faster (docs/speed.md) and another model or engine version never reads them. A folder whose kernels fail to load
(a corrupt file: inductor raises on it) is deleted and rebuilt, with a one-line warning.
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch

from ltr.models.backbone.resnet import tensors_sha256
from ltr.utils.quiet_logs import quiet_loggers
from trackers.atom_ebm.params import PRECISIONS

logger = logging.getLogger(__name__)

#: the layers the compiled graphs return
COMPILED_LAYERS = ("layer2", "layer3")
#: root of the compiled-kernel folders (default: ``atom_ebm`` in inductor's cache directory)
ENGINE_CACHE_ENV = "ATOM_EBM_ENGINE_CACHE"

Graph = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
#: network -> (precision, crop side) -> compiled graph
_GRAPHS: "weakref.WeakKeyDictionary[torch.nn.Module, dict[tuple[str, int], Graph]]" = weakref.WeakKeyDictionary()


class BackboneEngine:
    """Normalised images [B, 3, H, W] -> OrderedDict layer -> float32 feature map, like the network's
    ``extract_backbone_features``, at ``precision``.

    On other devices than the CPU the precision is fp32 (CUDA keeps its own path); int8 without a calibration in the
    model file or without torchao, and a compiled precision without a C++ compiler, fall back to fp32 with a
    one-line warning.

    Raises:
        ValueError: an unknown precision.
    """

    def __init__(self, net, precision: str, device: torch.device):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if precision != "fp32" and device.type != "cpu":
            logger.info("precision %s is for the CPU: the backbone runs fp32 on %s", precision, device.type)
            precision = "fp32"
        if precision == "int8" and getattr(net, "int8_calibration", None) is None:
            logger.warning("the model has no int8 calibration (atom-ebm calibrate MODEL OUT): running fp32")
            precision = "fp32"
        if precision == "int8" and importlib.util.find_spec("torchao") is None:
            logger.warning("int8 needs torchao (pip install torchao, or ./install.sh): running fp32")
            precision = "fp32"
        if precision != "fp32" and not _have_cpp_compiler():
            logger.warning("precision %s compiles with inductor, which needs a C++ compiler (g++ or $CXX): running "
                           "fp32", precision)
            precision = "fp32"
        self.net = net
        self.precision = precision
        self._graphs = _GRAPHS.setdefault(net, {}) if precision != "fp32" else {}

    def __call__(self, images: torch.Tensor, layers: Sequence[str]) -> "OrderedDict[str, torch.Tensor]":
        if self.precision == "fp32":
            return self.net.extract_backbone_features(images, layers=list(layers))
        missing = [name for name in layers if name not in COMPILED_LAYERS]
        if missing:
            raise ValueError(f"precision {self.precision!r} computes {COMPILED_LAYERS} only, not {missing}")
        if images.shape[-2] != images.shape[-1]:
            raise ValueError(f"precision {self.precision!r} takes square crops, got {tuple(images.shape[-2:])}")
        graph = self._graph(images.shape[-1])
        maps = [graph(image[None]) for image in images]
        stacked = {name: torch.cat([m[index] for m in maps]).float() for index, name in enumerate(COMPILED_LAYERS)}
        return OrderedDict((name, stacked[name]) for name in layers)

    def _graph(self, side: int) -> Graph:
        key = (self.precision, side)
        if key not in self._graphs:
            self._graphs[key] = self._build(side)
        return self._graphs[key]

    def _build(self, side: int) -> Graph:
        from ltr.models.backbone.quantization import ExportableBackbone, quantize_int8

        backbone = self.net.feature_extractor
        if self.precision == "int8":
            module = quantize_int8(backbone, self.net.int8_calibration, (1, 3, side, side))
        else:
            module = ExportableBackbone(backbone).eval()
        example = torch.zeros(1, 3, side, side)
        folder = engine_cache_dir(self.net, self.precision)  # hashed here: only when a graph is compiled
        existed = folder.is_dir()
        try:
            compiled = self._compile(module, example, folder)
        except Exception as error:  # inductor raises (InductorError) on a kernel file it cannot load
            if not existed:
                raise
            logger.warning("engine cache %s could not be loaded (%s); rebuilding it", folder,
                           str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
            shutil.rmtree(folder, ignore_errors=True)
            torch._dynamo.reset()  # forget the failed compilation
            compiled = self._compile(module, example, folder)

        def run(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            with self._compiled_context():
                return compiled(image)

        return run

    def _compile(self, module: torch.nn.Module, example: torch.Tensor, folder: Path) -> Callable:
        """``torch.compile(module)``, compiled now by one call on ``example`` with the kernels in ``folder``."""
        compiled = torch.compile(module)
        with self._compiled_context(), _inductor_cache_dir(folder):
            compiled(example)
        return compiled

    def _compiled_context(self) -> contextlib.ExitStack:
        # freezing folds the weights into the graph (prepacked int8 / bf16 kernels) when it compiles
        stack = contextlib.ExitStack()
        stack.enter_context(torch.no_grad())
        stack.enter_context(torch._inductor.config.patch(freezing=True))
        stack.enter_context(torch.autocast("cpu", torch.bfloat16, enabled=self.precision == "bf16"))
        stack.enter_context(quiet_loggers("torch.utils.cpp_extension"))  # "No CUDA runtime is found" on CPU machines
        return stack


def engine_cache_dir(net, precision: str) -> Path:
    """The folder of the compiled kernels of ``net``'s backbone at ``precision`` (bf16 or int8):
    ``<root>/<precision>-<sha256 of the weights and int8 calibration, 16 hex>-torch<version>[-torchao<version>]``, root
    ``$ATOM_EBM_ENGINE_CACHE``, else ``atom_ebm`` in inductor's cache directory."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    tensors = dict(net.feature_extractor.state_dict())
    versions = f"torch{torch.__version__.split('+')[0]}"
    if precision == "int8":
        from ltr.models.backbone.quantization import engine_versions

        tensors.update((f"int8_calibration.{key}", value) for key, value in sorted(net.int8_calibration.items()))
        versions += f"-torchao{engine_versions()['torchao']}"
    inductor_root = os.environ.get("TORCHINDUCTOR_CACHE_DIR") or default_cache_dir()
    root = os.environ.get(ENGINE_CACHE_ENV) or os.path.join(inductor_root, "atom_ebm")
    return Path(root) / f"{precision}-{tensors_sha256(tensors)[:16]}-{versions}"


@contextlib.contextmanager
def _inductor_cache_dir(folder: Path) -> Iterator[None]:
    """Inductor writes and reads its compiled kernels in ``folder`` (it reads ``$TORCHINDUCTOR_CACHE_DIR`` each time)."""
    previous = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(folder)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TORCHINDUCTOR_CACHE_DIR", None)
        else:
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = previous


def _have_cpp_compiler() -> bool:
    """Whether inductor finds the C++ compiler it builds CPU kernels with."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler

        get_cpp_compiler()
    except Exception:  # inductor raises its own InvalidCxxCompiler, or an OSError from the search
        return False
    return True
