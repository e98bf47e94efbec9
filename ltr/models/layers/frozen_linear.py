"""A fully connected layer with a constant weight, applied forwards (``x W^T + b``) and backwards (``g W``, the
gradient w.r.t. its input) many times on a few rows: box refinement scores about 10 boxes a dozen times per frame
through the IoU-Net's fully connected layers, whose weights (6.5 MB and 2.4 MB) dominate that cost.

On the CPU the weight is packed once into oneDNN's blocked layout (``torch.ops.mkldnn._reorder_linear_weight``, the
packing inductor uses for CPU linear layers) and both products run through oneDNN
(``torch.ops.mkldnn._linear_pointwise``): about twice as fast as ``F.linear`` and ``matmul`` for 10 rows on two
cores (docs/RESULTS.md, "Speed: S1 as a few large operations"). Elsewhere (CUDA, float64, a torch build without
these ops, or while ``torch.compile`` traces) the plain products run. Both give the same numbers up to float
rounding.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["FrozenLinear"]

#: rows per product the packed layout is tuned for (any number of rows works)
ROWS_HINT = 16
_ONEDNN = (torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
           and hasattr(torch.ops.mkldnn, "_linear_pointwise"))


class FrozenLinear:
    """``x W^T + b`` and ``g W`` for a constant ``weight`` [out, in] and ``bias`` [out] (or None).

    Args:
        weight, bias: the layer's parameters (detached; not copied unless packed).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        self.weight = weight.detach()
        self.bias = None if bias is None else bias.detach()
        self.packed = self.packed_transposed = None
        if _ONEDNN and self.weight.device.type == "cpu" and self.weight.dtype == torch.float32:
            self.packed = torch.ops.mkldnn._reorder_linear_weight(self.weight.contiguous(), ROWS_HINT)
            self.packed_transposed = torch.ops.mkldnn._reorder_linear_weight(self.weight.t().contiguous(), ROWS_HINT)

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        """[N, in] -> [N, out]."""
        if self._use_packed(inputs):
            return torch.ops.mkldnn._linear_pointwise(inputs.contiguous(), self.packed, self.bias, "none", [], "")
        return F.linear(inputs, self.weight, self.bias)

    def input_grad(self, grad_outputs: torch.Tensor) -> torch.Tensor:
        """The gradient w.r.t. the input [N, in] from the gradient w.r.t. the output [N, out]."""
        if self._use_packed(grad_outputs):
            return torch.ops.mkldnn._linear_pointwise(grad_outputs.contiguous(), self.packed_transposed, None, "none",
                                                      [], "")
        return grad_outputs @ self.weight

    def _use_packed(self, tensor: torch.Tensor) -> bool:
        return (self.packed is not None and not torch.compiler.is_compiling() and tensor.dtype == torch.float32
                and tensor.device.type == "cpu")
