"""The network's input contract travels with its checkpoint and sets the IoU-Net's crop in tracking."""
from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch
from helpers import write_checkpoint

from ltr.admin.export import export_model
from ltr.admin.loading import load_network
from ltr.models.input_spec import REFERENCE_INPUT_SPEC, InputSpec
from trackers.atom_ebm.iou_refinement import IoURefinement
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import with_overrides

SPEC = InputSpec(crop_size=256, search_area_factor=4.0, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))


def test_checkpoint_without_a_contract_gets_the_reference_one(tmp_path):
    net = load_network(write_checkpoint(tmp_path / "old.pth.tar"))
    assert net.input_spec == REFERENCE_INPUT_SPEC
    assert (REFERENCE_INPUT_SPEC.crop_size, REFERENCE_INPUT_SPEC.search_area_factor) == (288, 5.0)


def test_recorded_contract_survives_saving_export_and_loading(tmp_path):
    source = write_checkpoint(tmp_path / "ATOMnet_ep0001.pth.tar", input_spec=SPEC.to_dict())
    assert load_network(source).input_spec == SPEC
    export_model(source, tmp_path / "compact.pth", fp16=True)
    assert load_network(tmp_path / "compact.pth").input_spec == SPEC


@pytest.mark.parametrize("bad, message", [({"crop_size": 250}, "multiple"), ({"colour": 1}, "unknown"),
                                          ({"layers": ["layer3"]}, "strides")])
def test_a_malformed_contract_is_a_one_line_error_naming_the_file(tmp_path, bad, message):
    path = write_checkpoint(tmp_path / "bad.pth.tar", input_spec={**SPEC.to_dict(), **bad})
    with pytest.raises(ValueError, match=message) as error:
        load_network(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_refinement_crops_as_the_network_was_trained_and_warns_on_an_override(tmp_path, caplog):
    net = load_network(write_checkpoint(tmp_path / "net.pth.tar", input_spec=SPEC.to_dict()))
    box = np.array([40.0, 30.0, 20.0, 45.0])
    params = get_parameters("default")
    region = IoURefinement(net, params, torch.device("cpu"), torch.Generator()).region(box)
    # by hand: the crop covers 4 target sizes at the scale of a 256 px crop, of which iou_crop_size px are used
    assert region.scale == pytest.approx(math.sqrt(20.0 * 45.0) * 4.0 / 256)
    assert region.side == params.iou_crop_size and region.center == pytest.approx((50.0, 52.5))
    refinement = IoURefinement(net, params, torch.device("cpu"), torch.Generator())
    assert refinement.normalize.mean.flatten().tolist() == pytest.approx([127.5] * 3)
    with caplog.at_level(logging.WARNING):
        override = IoURefinement(net, with_overrides(params, {"iou_search_area_scale": 5.0}), torch.device("cpu"),
                                 torch.Generator())
    assert override.region(box).scale == pytest.approx(math.sqrt(20.0 * 45.0) * 5.0 / 256)
    assert "differs from the 4.0 the network was trained with" in caplog.text
