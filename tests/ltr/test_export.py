"""Exporting a training checkpoint as the compact tracking model (no layer4/fc, fp16) keeps the network's outputs."""
from __future__ import annotations

import json

import torch

from ltr.admin.checkpoint import load_checkpoint, save_checkpoint
from ltr.admin.export import main as export_main
from ltr.admin.loading import load_network
from ltr.models.bbreg import atom_resnet18


def test_export_drops_unused_layers_and_keeps_outputs(tmp_path):
    torch.manual_seed(0)
    net = atom_resnet18().eval()
    optimizer = torch.optim.Adam(net.bb_regressor.parameters())
    source = tmp_path / "ATOMnet_ep0003.pth.tar"
    save_checkpoint(source, {"net": net.state_dict(), "net_constructor": {"name": "atom_resnet18", "kwargs": {}},
                             "epoch": 3, "optimizer": optimizer.state_dict(), "settings": "bbreg/x",
                             "history": [{"epoch": 3, "train/Loss/total": 0.5}]})
    out, info = tmp_path / "model.pth", tmp_path / "model.json"
    assert export_main([str(tmp_path), str(out), "--fp16", "--info", str(info)]) == 0

    stored = load_checkpoint(out)
    assert set(stored) == {"net", "net_constructor", "epoch"}
    assert not any(k.startswith(("feature_extractor.layer4.", "feature_extractor.fc.")) for k in stored["net"])
    assert stored["net"]["bb_regressor.iou_predictor.weight"].dtype == torch.float16
    assert out.stat().st_size < 0.6 * source.stat().st_size
    assert json.loads(info.read_text())["history"][0]["train/Loss/total"] == 0.5

    exported = load_network(out)
    images = torch.randn(2, 3, 288, 288)
    boxes = torch.tensor([[100.0, 110.0, 60.0, 50.0], [90.0, 80.0, 40.0, 70.0]])
    proposals = boxes[:, None, :] + torch.tensor([[0.0, 0, 0, 0], [3, -2, 5, 4]])
    with torch.no_grad():
        expected = net(images, images, boxes, proposals)
        actual = exported(images, images, boxes, proposals)
    assert torch.allclose(actual, expected, rtol=2e-2, atol=2e-2 * expected.abs().max().item())


def test_export_rejects_a_file_that_is_not_a_training_checkpoint(tmp_path, capsys):
    bad = tmp_path / "bad.pth.tar"
    save_checkpoint(bad, {"weights": torch.zeros(1)})
    assert export_main([str(bad), str(tmp_path / "o.pth")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "bad.pth.tar" in error and error.startswith("python -m ltr.admin.export: error:")
