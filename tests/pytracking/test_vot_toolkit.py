"""The official VOT toolkit (vot-toolkit 0.9.0 over TraX) runs our trackers through pytracking.integrations.vot_trax.

Checked against the toolkit itself: its region classes and overlap, its TraX client runtime (boxes must come back
exactly as a known tracker moved them) and its ``vot test`` command on its own synthetic sequence with ATOM-EBM.
"""
from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

SKIP_REASON = "the VOT toolkit is not installed (vot-toolkit + vot-trax): run ./install.sh --vot"
pytest.importorskip("trax", reason=SKIP_REASON)
pytest.importorskip("vot.tracker.trax", reason=SKIP_REASON)

import trax  # noqa: E402
from vot.dataset.dummy import generate_dummy  # noqa: E402
from vot.region import Polygon as VotPolygon  # noqa: E402
from vot.region import Rectangle as VotRectangle  # noqa: E402
from vot.region.io import read_trajectory  # noqa: E402
from vot.region.raster import calculate_overlap  # noqa: E402
from vot.tracker import Registry  # noqa: E402

from pytracking.integrations import vot_trax  # noqa: E402
from trackers.base import Tracker, TrackerOutput  # noqa: E402
from trackers.registry import list_trackers, register_tracker  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SHIFT = np.array([1.5, -2.0, 0.25, 0.5])  # what ShiftTracker adds to the box every frame
SHIFT_SCORE = 0.75
#: a rotated square (VOT polygon) and its axis-aligned bounding box, by hand
DIAMOND = [(50.0, 10.0), (90.0, 50.0), (50.0, 90.0), (10.0, 50.0)]
DIAMOND_BOX = (10.0, 10.0, 80.0, 80.0)


class ShiftTracker(Tracker):
    """Moves the box by ``SHIFT`` every frame: the toolkit must get exactly these boxes back."""

    def initialize(self, image, box):
        self.box = np.asarray(box, dtype=float)

    def track(self, image):
        self.box = self.box + SHIFT
        return TrackerOutput(tuple(self.box), SHIFT_SCORE, {})


def register_shift_tracker() -> None:
    """Register ShiftTracker as ``test_vot_shift`` (in the tracker process the toolkit starts, too)."""
    if "test_vot_shift" not in list_trackers():
        register_tracker("test_vot_shift", lambda **kwargs: ShiftTracker())


def write_ini(workspace: Path, *args: str) -> None:
    assert vot_trax.main(["--write-ini", str(workspace), *args]) == 0


def test_rectangle_and_polygon_regions_become_0_based_xywh():
    assert vot_trax.region_to_box(trax.Rectangle.create(10.5, 20.0, 30.0, 40.0)) == (10.5, 20.0, 30.0, 40.0)
    assert vot_trax.region_to_box(trax.Polygon.create(DIAMOND)) == DIAMOND_BOX
    # the toolkit's own polygon -> rectangle conversion agrees
    converted = VotRectangle.convert(VotPolygon(DIAMOND))
    assert (converted.x, converted.y, converted.width, converted.height) == DIAMOND_BOX
    assert vot_trax.box_to_region((1.25, 2.0, 3.5, 4.0)).bounds() == (1.25, 2.0, 3.5, 4.0)
    with pytest.raises(ValueError, match="rectangle or polygon"):
        vot_trax.region_to_box(trax.Mask.create(np.ones((4, 4), np.uint8)))


def test_toolkit_runtime_gets_the_trackers_boxes_unchanged(tmp_path, monkeypatch):
    """The toolkit's TraX client talks to our server: the init box and every tracked box come back exactly."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the dummy sequence and the tracker's work folder
    sequence = generate_dummy(4)
    write_ini(tmp_path, "--param", "default", "--name", "shift", "--timeout", "120")
    config = configparser.ConfigParser(interpolation=None)
    config.read(tmp_path / "trackers.ini")
    # the tracker process imports this module to register ShiftTracker, then serves it
    prelude = f"sys.path.insert(0, {str(Path(__file__).parent)!r}); import {Path(__file__).stem} as t; t.register_shift_tracker(); "
    config["shift"]["command"] = prelude + config["shift"]["command"].replace("'atom_ebm'", "'test_vot_shift'")
    with open(tmp_path / "trackers.ini", "w") as file:
        config.write(file)

    with Registry([str(tmp_path)])["shift"].runtime(log=False) as runtime:
        first = sequence.groundtruth(0)
        start = np.array([first.x, first.y, first.width, first.height])
        for init_region, init_box in ((first, start), (VotPolygon(DIAMOND), np.array(DIAMOND_BOX))):
            status, _ = runtime.initialize(sequence.frame(0), [init_region])
            assert [_xywh(s.region) for s in status] == [tuple(init_box)]
            for i in range(1, len(sequence)):
                (state,), _ = runtime.update(sequence.frame(i), [])
                assert _xywh(state.region) == tuple(init_box + i * SHIFT)
                assert float(state.properties["confidence"]) == SHIFT_SCORE


def _xywh(region) -> tuple[float, float, float, float]:
    assert isinstance(region, VotRectangle), region
    return region.x, region.y, region.width, region.height


def test_write_ini_adds_a_section_the_toolkit_reads(tmp_path):
    (tmp_path / "trackers.ini").write_text("[other]\nprotocol = trax\ncommand = other_tracker\n")
    write_ini(tmp_path, "--param", "fast", "--device", "cpu", "--name", "atom-fast")
    trackers = Registry([str(tmp_path)])
    assert {"other", "atom-fast"} <= set(trackers.identifiers())
    assert trackers["atom-fast"].protocol == "traxpython"
    config = configparser.ConfigParser(interpolation=None)
    config.read(tmp_path / "trackers.ini")
    command = config["atom-fast"]["command"]
    assert "'--param', 'fast'" in command and "'--device', 'cpu'" in command
    assert config["atom-fast"]["python"] == sys.executable


def test_write_ini_bad_name_is_one_line_exit_2(tmp_path, capsys):
    assert vot_trax.main(["--write-ini", str(tmp_path), "--name", "a b"]) == 2
    assert "not a VOT tracker identifier" in capsys.readouterr().err
    assert not (tmp_path / "trackers.ini").exists()


def test_vot_test_runs_atom_ebm_on_the_toolkits_synthetic_sequence(tmp_path):
    """``vot test atom_ebm`` end to end: success message, and the reported boxes follow the synthetic object."""
    workspace = tmp_path / "workspace"
    write_ini(workspace, "--param", "fast", "--device", "cpu")
    env = dict(os.environ, TMPDIR=str(tmp_path))  # the toolkit writes its synthetic sequence to the temp folder
    result = subprocess.run([sys.executable, "-m", "vot", "test", "atom_ebm"], cwd=workspace, env=env,
                            capture_output=True, text=True, timeout=540)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    # the toolkit exits 0 even when the tracker fails: its last words tell
    assert "Test concluded successfuly" in log, log[-3000:]
    assert "Error during tracker execution" not in log

    # the boxes our server sent (TraX "state" messages), against the sequence's ground truth, by the toolkit's overlap
    states = [VotRectangle(*map(float, s.split(","))) for s in re.findall(r'@@TRAX:state "([^"]+)"', log)]
    truth = read_trajectory(str(tmp_path / "vot_dummy_50_640_480_1" / "groundtruth.txt"))
    assert len(states) == len(truth) == 50
    assert _xywh(states[0]) == _xywh(truth[0])
    overlaps = [calculate_overlap(s, t, bounds=(640, 480)) for s, t in zip(states[1:], truth[1:])]
    print(f"vot test atom_ebm (fast): mean overlap {np.mean(overlaps):.3f}, min {np.min(overlaps):.3f}")
    assert np.mean(overlaps) > 0.7 and np.min(overlaps) > 0.5
