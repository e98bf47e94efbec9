"""int8 inference of a ResNet-18 backbone (conv1 .. layer3) on x86 CPUs: PyTorch 2 export quantization.

Static int8 through torchao's ``X86InductorQuantizer`` (VNNI kernels once compiled by inductor): the backbone is
exported, observers are inserted (``prepare_pt2e``), fed real images (calibration), and the graph is converted to
quantize/dequantize pairs around int8 convolutions (``convert_pt2e``). The calibration is a state dict of tensors:
the activation observers' histograms and ranges (weight observers are recomputed from the weights), saved with the
model (``ltr.admin.calibrate``), so tracking never calibrates on the video it tracks.

Calibration runs one graph for any batch size and crop side (a multiple of 16); the int8 graph is exported per input
shape (inductor's frozen int8 kernels need static shapes). Both return ``(layer2, layer3)``.
"""
from __future__ import annotations

import functools
from typing import Iterable

import torch
from torch import nn

from ltr.models.backbone.resnet import ResNetBackbone
from ltr.utils.quiet_logs import quiet_loggers

#: layers the int8 graph returns, in this order
INT8_LAYERS = ("layer2", "layer3")


def _torchao():
    # torchao 0.18 registers an Enum with torch's pytree at import, which torch 2.14 answers with a deprecation
    # warning on every import
    try:
        with quiet_loggers("torch.utils._pytree"):
            from torchao.quantization.pt2e.quantize_pt2e import (
                convert_pt2e,
                prepare_pt2e,
            )
            from torchao.quantization.pt2e.quantizer import (
                x86_inductor_quantizer as x86,
            )
    except ImportError as error:
        raise RuntimeError(f"int8 inference needs torchao (pip install torchao): {error}") from None
    return prepare_pt2e, convert_pt2e, x86


def engine_versions() -> dict[str, str]:
    """The library versions an int8 graph (and its calibration's observer names) depend on."""
    _torchao()
    import torchao

    return {"torch": torch.__version__.split("+")[0], "torchao": torchao.__version__}


class _Block(nn.Module):
    """torchvision's ``BasicBlock`` with one ReLU module per use: the quantizer matches conv -> add -> ReLU patterns
    per module and rejects a ReLU module called twice."""

    def __init__(self, block: nn.Module):
        super().__init__()
        self.conv1, self.bn1, self.conv2, self.bn2 = block.conv1, block.bn1, block.conv2, block.bn2
        self.downsample = block.downsample
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x))))) + identity)


class ExportableBackbone(nn.Module):
    """conv1 .. layer3 of a ResNet-18 ``ResNetBackbone`` (weights shared, not copied) as a plain graph:
    [B, 3, H, W] normalised images -> (layer2 [B, 128, H/8, W/8], layer3 [B, 256, H/16, W/16])."""

    def __init__(self, backbone: ResNetBackbone):
        super().__init__()
        if not all(backbone.has_layer(name) for name in INT8_LAYERS) or not hasattr(backbone.layer1[0], "conv2"):
            raise ValueError("int8 inference supports ResNet-18 backbones built up to layer3")
        self.stem = nn.Sequential(backbone.conv1, backbone.bn1, nn.ReLU(), backbone.maxpool)
        self.layer1, self.layer2, self.layer3 = (nn.Sequential(*map(_Block, getattr(backbone, name)))
                                                 for name in ("layer1", "layer2", "layer3"))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        layer2 = self.layer2(self.layer1(self.stem(x)))
        return layer2, self.layer3(layer2)


def _prepared(backbone: ResNetBackbone, shape: tuple[int, int, int, int] | None = None) -> torch.fx.GraphModule:
    """The exported backbone with observers: for input ``shape`` [B, 3, H, W], or for any batch and side (a graph
    for calibration: inductor's frozen int8 kernels need static shapes)."""
    prepare_pt2e, _, x86 = _torchao()
    module = ExportableBackbone(backbone).eval()
    if shape is None:
        batch, side = torch.export.Dim("batch", min=1, max=4096), torch.export.Dim("side", min=4, max=128)
        exported = torch.export.export(module, (torch.zeros(2, 3, 288, 288),),
                                       dynamic_shapes={"x": {0: batch, 2: 16 * side, 3: 16 * side}}).module()
    else:
        exported = torch.export.export(module, (torch.zeros(shape),)).module()
    quantizer = x86.X86InductorQuantizer().set_global(x86.get_default_x86_inductor_quantization_config())
    return prepare_pt2e(exported, quantizer)


def calibrate_int8(backbone: ResNetBackbone, images: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Observer state (histograms and ranges of every quantized activation) after running ``images`` (batches of
    normalised [B, 3, H, W] CPU tensors, sides multiples of 16) through the backbone."""
    prepared = _prepared(backbone)
    count = 0
    with torch.no_grad():
        for batch in images:
            prepared(batch)
            count += batch.shape[0]
    if count == 0:
        raise ValueError("int8 calibration needs at least one image")
    observers = _activation_observers(prepared)
    return {key: value.clone() for key, value in prepared.state_dict().items() if key.split(".")[0] in observers}


def quantize_int8(backbone: ResNetBackbone, calibration: dict[str, torch.Tensor],
                  shape: tuple[int, int, int, int]) -> torch.fx.GraphModule:
    """The int8 graph of ``backbone`` for inputs of ``shape`` [B, 3, H, W] from a calibration of ``calibrate_int8``
    (uncompiled: ``torch.compile(graph)``, first called under ``torch._inductor.config.patch(freezing=True)``, runs
    it on int8 kernels; see ``trackers.atom_ebm.backbone_engine``).

    Raises:
        ValueError: the calibration does not fit this backbone's graph (another model or library version).
    """
    _, convert_pt2e, _ = _torchao()
    prepared = _prepared(backbone, shape)
    observers = _activation_observers(prepared)
    expected = {key for key in prepared.state_dict() if key.split(".")[0] in observers}
    if expected != calibration.keys():
        raise ValueError(f"the int8 calibration has {len(calibration)} observer tensors, this graph needs "
                         f"{len(expected)} (calibrated with another library version?)")
    for key, value in calibration.items():
        observer, buffer = key.split(".", 1)
        # histogram observers size their buffers at the first batch: take the saved shapes as they are
        setattr(prepared.get_submodule(observer), buffer, value.clone())
    with torch.no_grad():
        for node in prepared.graph.nodes:  # weight observers see their weights, not data
            if _is_observer(node) and node.args[0].op == "get_attr":
                weight = functools.reduce(getattr, node.args[0].target.split("."), prepared)
                prepared.get_submodule(node.target)(weight)
    return convert_pt2e(prepared)


def _activation_observers(prepared: torch.fx.GraphModule) -> set[str]:
    """Names of the observer modules that watch activations (their input is computed, not a stored weight)."""
    return {node.target for node in prepared.graph.nodes if _is_observer(node) and node.args[0].op != "get_attr"}


def _is_observer(node: torch.fx.Node) -> bool:
    return node.op == "call_module" and node.target.startswith("activation_post_process_")
