"""``--precision`` on the tracking tools: results kept apart per precision, recorded in run_info.json, refused
(exit 2, one line, nothing written) for trackers without one."""
from __future__ import annotations

import json

import pytest
from benchmark_trees import make_uav123_tree

from pytracking.run_tracker import main as run_tracker_main
from pytracking.run_video import main as run_video_main


@pytest.fixture(scope="module")
def uav_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("uav10")
    make_uav123_tree(root, {"bike1": 6})
    return root


def _cli(uav_root, results, *extra):
    return ["--dataset", "uav123_10fps", "--dataset-root", str(uav_root), "--results-dir", str(results), *extra]


def test_precision_for_a_tracker_without_one_is_a_usage_error(uav_root, tmp_path, capsys):
    results = tmp_path / "results"
    assert run_tracker_main(["opencv", "csrt", *_cli(uav_root, results, "--precision", "int8")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "tracker 'opencv' takes no precision; drop --precision" in error
    assert not results.exists()


def test_unknown_precision_is_a_usage_error(uav_root, tmp_path, capsys):
    assert run_tracker_main(["atom_ebm", "fast", *_cli(uav_root, tmp_path, "--precision", "fp8")]) == 2
    assert "invalid choice: 'fp8'" in capsys.readouterr().err
    assert run_video_main([str(tmp_path), "--precision", "fp8"]) == 2


@pytest.mark.slow
def test_results_of_a_precision_go_to_their_own_folder(uav_root, tmp_path):
    pytest.importorskip("torchao")
    results = tmp_path / "results"
    assert run_tracker_main(["atom_ebm", "fast", *_cli(uav_root, results, "--precision", "int8", "--device", "cpu")]) == 0
    folder = results / "atom_ebm" / "fast_int8"
    assert (folder / "bike1.txt").is_file() and not (results / "atom_ebm" / "fast").exists()
    info = json.loads((folder / "run_info.json").read_text())
    assert info["param"] == "fast" and info["precision"] == "int8" and info["versions"]["torchao"]
