"""ResNet backbone against torchvision's own ResNet run stage by stage."""
from __future__ import annotations

import pytest
import torch
import torchvision
from helpers import SHARED

from ltr.admin.loading import load_state_dict_into
from ltr.models.backbone.resnet import resnet18, resnet50
from ltr.models.bbreg.atom import atom_resnet18


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
    assert list(ours.state_dict()) == [key for key in reference.state_dict() if not key.startswith(("layer4.", "fc."))]
    reference.load_state_dict(ours.state_dict(), strict=False)
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
    model = resnet18(output_layers=("layer1", "fc")).eval()
    ran = []
    for name in ("layer2", "layer3", "layer4", "fc"):
        getattr(model, name).register_forward_hook(lambda module, inputs, output, name=name: ran.append(name))
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64), output_layers=("layer1",))
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
    reference_keys = torchvision.models.resnet50(weights=None).state_dict()
    assert list(model.state_dict()) == [key for key in reference_keys if not key.startswith(("layer4.", "fc."))]
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


def test_atom_backbone_ends_at_layer3() -> None:
    model = resnet18(output_layers=("layer2", "layer3"))
    assert not any(key.startswith(("layer4.", "fc.")) for key in model.state_dict())
    with pytest.raises(ValueError, match="not built"):
        model(torch.zeros(1, 3, 32, 32), output_layers=("layer4",))


SHARED_WEIGHTS = SHARED / "weights" / "resnet18_imagenet_conv1_layer3.pth"


@pytest.mark.skipif(not SHARED_WEIGHTS.is_file(), reason=f"shared ImageNet weights not found: {SHARED_WEIGHTS}")
def test_shared_imagenet_weights_match_torchvision_resnet18() -> None:
    """The shared file through ``atom_resnet18(backbone_weights=...)`` gives torchvision's own features."""
    net = atom_resnet18(backbone_weights=SHARED_WEIGHTS).eval()
    state_dict = torch.load(SHARED_WEIGHTS, map_location="cpu", weights_only=True)
    reference = torchvision.models.resnet18(weights=None)
    incompatible = reference.load_state_dict(state_dict, strict=False)
    assert {key.split(".")[0] for key in incompatible.missing_keys} == {"layer4", "fc"}
    reference.eval()
    torch.manual_seed(0)
    images = torch.randn(2, 3, 288, 288)
    with torch.no_grad():
        ours = net.extract_backbone_features(images)
        expected = torchvision_stages(reference, images)
    assert ours["layer2"].shape == (2, 128, 36, 36) and ours["layer3"].shape == (2, 256, 18, 18)
    torch.testing.assert_close(ours["layer2"], expected["layer2"], rtol=0, atol=0)
    torch.testing.assert_close(ours["layer3"], expected["layer3"], rtol=0, atol=0)


def test_backbone_weights_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        resnet18(weights=tmp_path / "missing.pth")
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="garbage.pth"):
        resnet18(weights=garbage)
    partial = tmp_path / "partial.pth"
    torch.save({key: value for key, value in resnet18().state_dict().items() if not key.startswith("layer3.")}, partial)
    with pytest.raises(ValueError, match=r"partial.pth.*missing \['layer3"):
        resnet18(weights=partial)
    with pytest.raises(ValueError, match="not both"):
        resnet18(weights=partial, pretrained=True)


def test_official_checkpoint_keys_with_layer4_load(tmp_path) -> None:
    """pytracking checkpoints store layer4 / fc; they load into the layer3-deep backbone, the rest exactly."""
    full = torchvision.models.resnet18(weights=None).state_dict()
    net = atom_resnet18()
    state = {f"feature_extractor.{key}": value for key, value in full.items()}
    state.update({f"bb_regressor.{key}": value for key, value in net.bb_regressor.state_dict().items()})
    load_state_dict_into(net, state)
    torch.testing.assert_close(net.feature_extractor.layer3[1].conv2.weight, full["layer3.1.conv2.weight"])
