"""``atom-ebm average``: the weight average of two networks, against hand-computed tensors."""
from __future__ import annotations

import pytest
import torch
from helpers import write_checkpoint

from ltr.admin.average import average_state_dicts
from ltr.admin.average import main as average_main
from ltr.admin.checkpoint import load_checkpoint, save_checkpoint
from ltr.admin.export import main as export_main
from ltr.admin.loading import load_network
from ltr.models.bbreg import atom_resnet18


def test_floats_are_interpolated_and_counters_taken_from_the_fine_tuned_network():
    a = {"w": torch.tensor([0.0, 2.0]), "h": torch.tensor([1.0], dtype=torch.float16), "n": torch.tensor(3),
         "bn.num_batches_tracked": torch.tensor(10)}
    b = {"w": torch.tensor([4.0, 6.0]), "h": torch.tensor([5.0], dtype=torch.float16), "n": torch.tensor(3),
         "bn.num_batches_tracked": torch.tensor(25)}
    averaged = average_state_dicts(a, b, 0.25)  # 0.75 a + 0.25 b
    assert averaged["w"].tolist() == [1.0, 3.0]
    assert averaged["h"].dtype == torch.float32 and averaged["h"].tolist() == [2.0]
    assert averaged["n"].item() == 3 and averaged["bn.num_batches_tracked"].item() == 25


@pytest.mark.parametrize("b, message", [({"w": torch.zeros(2)}, "different weights"),
                                        ({"w": torch.zeros(3), "n": torch.tensor(3)}, "w: shape (2,) against (3,)"),
                                        ({"w": torch.zeros(2), "n": torch.tensor(4)}, "n: the non-floating-point")])
def test_networks_that_differ_are_refused(b, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        average_state_dicts({"w": torch.zeros(2), "n": torch.tensor(3)}, b, 0.5)


def test_the_command_writes_an_exportable_average(tmp_path, capsys):
    torch.manual_seed(0)
    a = write_checkpoint(tmp_path / "a.pth.tar", atom_resnet18(), epoch=1)
    b = write_checkpoint(tmp_path / "b.pth.tar", atom_resnet18(), epoch=4)
    out = tmp_path / "avg.pth.tar"
    assert average_main([str(a), str(b), str(out), "--weight", "0.5"]) == 0
    key = "bb_regressor.iou_predictor.weight"
    expected = (load_checkpoint(a)["net"][key] + load_checkpoint(b)["net"][key]) / 2
    stored = load_checkpoint(out)
    assert torch.allclose(stored["net"][key], expected)
    assert stored["averaged_from"] == {"a": "a.pth.tar", "b": "b.pth.tar", "weight_of_b": 0.5, "epochs": [1, 4]}
    assert export_main([str(out), str(tmp_path / "model.pth"), "--fp16"]) == 0
    load_network(tmp_path / "model.pth")
    capsys.readouterr()

    other = tmp_path / "other.pth.tar"
    save_checkpoint(other, {**load_checkpoint(b), "net_constructor": {"name": "atom_resnet50", "kwargs": {}}})
    for args, message in (([str(a), str(other), str(tmp_path / "x")], "build different networks"),
                          ([str(a), str(b), str(tmp_path / "x"), "--weight", "1.5"], "--weight must be in [0, 1]"),
                          ([str(a), str(tmp_path / "none.pth"), str(tmp_path / "x")], "none.pth")):
        assert average_main(args) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and message in error
    assert not (tmp_path / "x").exists()
