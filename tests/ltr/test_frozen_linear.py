"""FrozenLinear: forward and input-gradient products against float64 matrix products, packed or not."""
from __future__ import annotations

import pytest
import torch

from ltr.models.layers.frozen_linear import FrozenLinear


@pytest.mark.parametrize("rows", [1, 10, 33])
def test_products_match_float64_reference(rows: int) -> None:
    generator = torch.Generator().manual_seed(rows)
    weight = torch.randn(256, 6400, generator=generator)
    bias = torch.randn(256, generator=generator)
    inputs = torch.randn(rows, 6400, generator=generator)
    grad = torch.randn(rows, 256, generator=generator)
    layer = FrozenLinear(weight, bias)
    expected = inputs.double() @ weight.double().T + bias.double()
    torch.testing.assert_close(layer(inputs).double(), expected, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(layer.input_grad(grad).double(), grad.double() @ weight.double(), rtol=1e-4, atol=1e-3)
    assert FrozenLinear(weight, None)(inputs).shape == (rows, 256)


def test_packs_on_the_cpu_in_float32_only() -> None:
    """The packed oneDNN path is taken for float32 CPU tensors (when this torch build has it), never for float64 or
    while ``torch.compile`` traces; the plain path gives the same numbers."""
    weight, bias = torch.randn(8, 12), torch.randn(8)
    layer = FrozenLinear(weight, bias)
    if torch.backends.mkldnn.is_available():
        assert layer.packed is not None and layer.packed_transposed is not None
    assert FrozenLinear(weight.double(), bias.double()).packed is None
    inputs = torch.randn(3, 12)
    torch.testing.assert_close(layer(inputs), torch.nn.functional.linear(inputs, weight, bias))
    traced = torch.compile(lambda x: layer(x) + layer.input_grad(layer(x)).sum(), backend="eager", fullgraph=True)
    expected = layer(inputs) + layer.input_grad(layer(inputs)).sum()
    torch.testing.assert_close(traced(inputs), expected, rtol=1e-5, atol=1e-5)
