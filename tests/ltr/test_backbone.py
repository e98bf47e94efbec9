"""ResNet backbone against torchvision's own ResNet run stage by stage."""
from __future__ import annotations

import pytest
import torch
import torchvision

from ltr.models.backbone.resnet import resnet18, resnet50


def torchvision_stages(model: torchvision.models.ResNet, x: torch.Tensor) -> dict[str, torch.Tensor]:
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    out = {}
    for name in ("layer1", "layer2", "layer3"):
        x = getattr(model, name)(x)
        out[name] = x
    return out


def test_resnet18_matches_torchvision_and_keys() -> None:
    torch.manual_seed(0)
    ours = resnet18().eval()
    reference = torchvision.models.resnet18(weights=None).eval()
    assert list(ours.state_dict()) == list(reference.state_dict())
    reference.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 96, 64)
    with torch.no_grad():
        out = ours(x)
        expected = torchvision_stages(reference, x)
    assert list(out) == ["layer2", "layer3"]
    assert out["layer2"].shape == (2, 128, 12, 8)  # stride 8
    assert out["layer3"].shape == (2, 256, 6, 4)  # stride 16
    torch.testing.assert_close(out["layer2"], expected["layer2"])
    torch.testing.assert_close(out["layer3"], expected["layer3"])


def test_forward_stops_after_last_requested_layer() -> None:
    model = resnet18(output_layers=("layer1",)).eval()
    ran = []
    for name in ("layer2", "layer3", "layer4", "fc"):
        getattr(model, name).register_forward_hook(lambda module, inputs, output, name=name: ran.append(name))
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
        assert list(out) == ["layer1"] and out["layer1"].shape == (1, 64, 16, 16)
        assert ran == []
        out = model(torch.randn(1, 3, 64, 64), output_layers=("layer3", "layer2"))
    assert list(out) == ["layer2", "layer3"] and ran == ["layer2", "layer3"]


def test_full_network_reaches_fc() -> None:
    model = resnet18(output_layers=("fc",)).eval()
    reference = torchvision.models.resnet18(weights=None).eval()
    reference.load_state_dict(model.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x)["fc"], reference(x))


def test_resnet50_channels() -> None:
    model = resnet50().eval()
    assert list(model.state_dict()) == list(torchvision.models.resnet50(weights=None).state_dict())
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    assert out["layer2"].shape == (1, 512, 8, 8) and out["layer3"].shape == (1, 1024, 4, 4)


@pytest.mark.parametrize("layers", [(), ("layer5",), ("layer2", "layer2")])
def test_bad_layers_raise(layers: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="output_layers"):
        resnet18(output_layers=layers)


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="B, 3, H, W"):
        resnet18()(torch.zeros(1, 1, 32, 32))
