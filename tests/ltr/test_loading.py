"""Checkpoint save/load and load_network: our format, legacy pytracking pickles, hostile files."""
from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest
import torch
import torchvision

from ltr.admin.checkpoint import load_checkpoint, save_checkpoint
from ltr.admin.loading import (
    load_legacy_checkpoint,
    load_network,
    resolve_checkpoint_path,
)
from ltr.models.registry import build_model


@pytest.fixture(scope="module")
def reference_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    net = build_model("atom_resnet18")
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    # like a pytracking checkpoint: the backbone's unused layer4 / fc are stored too
    full = torchvision.models.resnet18(weights=None).state_dict()
    state.update({f"feature_extractor.{k}": v for k, v in full.items() if k.startswith(("layer4.", "fc."))})
    return state


def assert_weights_equal(net: torch.nn.Module, state: dict[str, torch.Tensor], atol: float = 0.0) -> None:
    loaded = net.state_dict()
    assert all(key.startswith(("feature_extractor.layer4.", "feature_extractor.fc.")) for key in set(state) - set(loaded))
    for key, value in ((k, v) for k, v in state.items() if k in loaded):
        torch.testing.assert_close(loaded[key].float(), value.float(), rtol=0, atol=atol, msg=key)


def test_save_and_load_checkpoint_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ckpt.pth.tar"
    state = {"net": {"w": torch.arange(3.0)}, "net_constructor": {"name": "atom_resnet18", "kwargs": {"iou_input_dim": [256, 256]}}, "epoch": 7}
    save_checkpoint(path, state)
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 7 and loaded["net_constructor"] == state["net_constructor"]
    assert torch.equal(loaded["net"]["w"], torch.arange(3.0))
    assert sorted(os.listdir(path.parent)) == ["ckpt.pth.tar"]


def test_failed_save_keeps_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pth.tar"
    save_checkpoint(path, {"epoch": 1})
    with pytest.raises(Exception):
        save_checkpoint(path, {"epoch": 2, "bad": lambda: None})  # lambdas cannot be pickled
    assert load_checkpoint(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.pth.tar"]


def test_load_checkpoint_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.pth.tar"):
        load_checkpoint(tmp_path / "missing.pth.tar")
    garbage = tmp_path / "garbage.pth.tar"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pth.tar"):
        load_checkpoint(garbage)
    with pytest.raises(ValueError, match="dict"):
        save_checkpoint(tmp_path / "x.pth.tar", [1, 2])  # type: ignore[arg-type]


def test_load_network_our_format_fp16_without_layer4(tmp_path: Path, reference_state: dict[str, torch.Tensor]) -> None:
    kept = {k: v for k, v in reference_state.items() if not k.startswith(("feature_extractor.layer4.", "feature_extractor.fc."))}
    assert len(kept) < len(reference_state)
    half = {k: v.half() if v.is_floating_point() else v for k, v in kept.items()}
    save_checkpoint(tmp_path / "ATOMnet_ep0001.pth.tar", {"net": {k: torch.zeros_like(v) for k, v in half.items()}, "net_constructor": {"name": "atom_resnet18", "kwargs": {}}, "epoch": 1})
    save_checkpoint(tmp_path / "ATOMnet_ep0002.pth.tar", {"net": half, "net_constructor": {"name": "atom_resnet18", "kwargs": {}}, "epoch": 2})
    net = load_network(tmp_path)  # directory -> lexicographically last file (ep0002)
    assert not net.training
    assert next(net.parameters()).dtype == torch.float32
    assert_weights_equal(net, {k: v.half().float() if v.is_floating_point() else v for k, v in kept.items()})


def test_load_network_rejects_bad_weights(tmp_path: Path, reference_state: dict[str, torch.Tensor]) -> None:
    constructor = {"name": "atom_resnet18", "kwargs": {}}
    missing = {k: v for k, v in reference_state.items() if k != "bb_regressor.iou_predictor.bias"}
    save_checkpoint(tmp_path / "missing.pth.tar", {"net": missing, "net_constructor": constructor})
    with pytest.raises(ValueError, match="iou_predictor.bias"):
        load_network(tmp_path / "missing.pth.tar")
    wrong = dict(reference_state, **{"bb_regressor.iou_predictor.weight": torch.zeros(1, 3)})
    save_checkpoint(tmp_path / "wrong.pth.tar", {"net": wrong, "net_constructor": constructor})
    with pytest.raises(ValueError, match="shape mismatch"):
        load_network(tmp_path / "wrong.pth.tar")
    save_checkpoint(tmp_path / "unknown.pth.tar", {"net": reference_state, "net_constructor": {"name": "atom_vit", "kwargs": {}}})
    with pytest.raises(ValueError, match="unknown model 'atom_vit'"):
        load_network(tmp_path / "unknown.pth.tar")
    save_checkpoint(tmp_path / "nonet.pth.tar", {"epoch": 3})
    with pytest.raises(ValueError, match="no 'net'"):
        load_network(tmp_path / "nonet.pth.tar")
    (tmp_path / "text.pth.tar").write_text("hello")
    with pytest.raises(ValueError, match="text.pth.tar"):
        load_network(tmp_path / "text.pth.tar")
    with pytest.raises(FileNotFoundError):
        load_network(tmp_path / "does_not_exist")
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="empty_dir"):
        load_network(empty)


def _throwaway_module(name: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    return module


@pytest.mark.parametrize("zip_format", [True, False])
def test_load_network_legacy_pytracking_pickle(
    tmp_path: Path, reference_state: dict[str, torch.Tensor], monkeypatch: pytest.MonkeyPatch, zip_format: bool
) -> None:
    constructor_module = _throwaway_module("ltr.admin.model_constructor", monkeypatch)
    settings_module = _throwaway_module("ltr.admin.settings_fake", monkeypatch)

    class NetConstructor:
        def __init__(self) -> None:
            self.fun_name = "atom_resnet18"
            self.fun_module = "ltr.models.bbreg.atom"
            self.args = ()
            self.kwds = {"backbone_pretrained": True, "iou_input_dim": (256, 256), "iou_inter_dim": [256, 256]}

    class Settings:
        def __init__(self) -> None:
            self.env = {"workspace_dir": "/nowhere"}
            self.batch_size = 64

    NetConstructor.__module__, NetConstructor.__qualname__ = constructor_module.__name__, "NetConstructor"
    Settings.__module__, Settings.__qualname__ = settings_module.__name__, "Settings"
    constructor_module.NetConstructor = NetConstructor
    settings_module.Settings = Settings
    checkpoint = {
        "epoch": 50,
        "actor_type": "AtomBBKLActor",
        "net_type": "ATOMnet",
        "net": reference_state,
        "net_info": None,
        "constructor": NetConstructor(),
        "optimizer": {"state": {}, "param_groups": []},
        "stats": None,
        "settings": Settings(),
    }
    path = tmp_path / "ATOMnet_ep0050.pth.tar"
    torch.save(checkpoint, path, pickle_protocol=2, _use_new_zipfile_serialization=zip_format)
    monkeypatch.delitem(sys.modules, "ltr.admin.model_constructor")  # the loader must not need the class
    monkeypatch.delitem(sys.modules, "ltr.admin.settings_fake")

    raw = load_legacy_checkpoint(path)
    assert raw["constructor"].fun_name == "atom_resnet18" and raw["settings"].batch_size == 64
    assert type(raw["settings"]).__module__.startswith("stub:")
    net = load_network(path)
    assert not net.training
    assert_weights_equal(net, reference_state)


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: D105 - the payload a hostile checkpoint would carry
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_does_not_execute(tmp_path: Path, reference_state: dict[str, torch.Tensor]) -> None:
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pth"
    torch.save({"net": reference_state, "settings": _Evil(marker)}, path, pickle_protocol=2)
    net = load_network(path)  # the payload is replaced by an inert stub; the weights still load
    assert not marker.exists()
    assert_weights_equal(net, {"bb_regressor.iou_predictor.weight": reference_state["bb_regressor.iou_predictor.weight"]})
    only_evil = tmp_path / "only_evil.pth"
    torch.save(_Evil(marker), only_evil, pickle_protocol=2)
    with pytest.raises(ValueError, match="only_evil.pth"):
        load_network(only_evil)
    evil_net = tmp_path / "evil_net.pth"
    torch.save({"net": {"feature_extractor.conv1.weight": _Evil(marker)}}, evil_net, pickle_protocol=2)
    with pytest.raises(ValueError, match="not a tensor"):
        load_network(evil_net)
    assert not marker.exists()


def test_a_folder_resolves_to_its_newest_epoch_not_the_alphabetically_last_file(tmp_path):
    for name in ("ATOMnet_ep0002.pth.tar", "ATOMnet_ep0010.pth.tar", "ATOMnet_ep0009.pth.tar", "init.pth.tar",
                 "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert resolve_checkpoint_path(tmp_path) == tmp_path / "ATOMnet_ep0010.pth.tar"
    (tmp_path / "ATOMnet_ep0010.pth.tar").unlink()
    assert resolve_checkpoint_path(tmp_path) == tmp_path / "ATOMnet_ep0009.pth.tar"
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "init.pth.tar").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="no <name>_epNNNN.pth.tar checkpoint in directory"):
        resolve_checkpoint_path(empty)
