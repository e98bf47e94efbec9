"""``atom-ebm calibrate``: an int8 calibration from training frames, stored in the model file, kept by export."""
from __future__ import annotations

import pytest
import torch
from helpers import SHARED, write_checkpoint

from ltr.admin.calibrate import main as calibrate_main
from ltr.admin.checkpoint import load_checkpoint
from ltr.admin.export import export_model
from ltr.admin.loading import load_network

pytest.importorskip("torchao")
DATA = SHARED / "data"


def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, monkeypatch):
    model = write_checkpoint(tmp_path / "model.pth")
    out = tmp_path / "out.pth"
    monkeypatch.delenv("ATOM_EBM_LOCAL_DATA", raising=False)
    assert calibrate_main([str(model), str(out), "--crops", "0"]) == 2
    assert "--crops must be >= 1" in capsys.readouterr().err
    assert calibrate_main([str(model), str(out), "--local-data-root", str(tmp_path / "absent")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "absent" in error
    (tmp_path / "junk.pth").write_bytes(b"not a model")
    assert calibrate_main([str(tmp_path / "junk.pth"), str(out), "--local-data-root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "train").is_dir(), reason="needs the local training data")
def test_calibration_is_stored_loaded_and_exported(tmp_path):
    model = write_checkpoint(tmp_path / "model.pth")
    out = tmp_path / "calibrated.pth"
    assert calibrate_main([str(model), str(out), "--crops", "3", "--local-data-root", str(DATA), "--no-progress"]) == 0
    record = load_checkpoint(out)["int8_calibration"]
    assert record["crops"] == 6 and set(record["versions"]) == {"torch", "torchao"}
    calibration = load_network(out).int8_calibration
    assert calibration and all(isinstance(value, torch.Tensor) for value in calibration.values())
    assert load_network(model).int8_calibration is None
    export_model(out, tmp_path / "exported.pth", fp16=True)
    exported = load_network(tmp_path / "exported.pth").int8_calibration
    assert exported.keys() == calibration.keys()
    assert all(torch.equal(exported[key], calibration[key]) for key in calibration)


def test_malformed_calibration_is_one_line_naming_the_file(tmp_path):
    model = write_checkpoint(tmp_path / "model.pth", int8_calibration={"observers": {"a": "not a tensor"}})
    with pytest.raises(ValueError, match=f"{model}: 'int8_calibration' must hold"):
        load_network(model)
