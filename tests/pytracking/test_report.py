"""The report CLI on hand-made result files with hand-computed scores."""
from __future__ import annotations

import json

import numpy as np
import pytest
from benchmark_trees import make_trackingnet_tree, make_uav123_tree

from pytracking.analysis.report import main as report_main

LENGTHS = {"bike1": 5, "boat1": 4, "car2": 8}
SIDE = 18  # synthetic square side


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "uav"
    truth = make_uav123_tree(root, LENGTHS)
    results = tmp_path / "results"
    for name, boxes in truth.items():
        annotation = boxes.copy()
        annotation[:, :2] += 1  # result files are in the annotation convention
        perfect = results / "perfect" / "p" / f"{name}.txt"
        perfect.parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(perfect, annotation, delimiter=",", fmt="%.2f")
        if name != "car2":
            shifted = annotation.copy()
            shifted[:, 0] += SIDE / 2  # overlap (9*18) / (2*18*18 - 9*18) = 1/3, centre error 9 px
            path = results / "shifted" / "p" / f"{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savetxt(path, shifted, delimiter="\t", fmt="%.2f")
    return root, results


def _args(root, results, *trackers):
    return ["--dataset", "uav123_10fps", "--dataset-root", str(root), "--results-dir", str(results), "--trackers", *trackers]


def _expected_shifted_auc(n: int) -> float:
    # frame 0 is replaced by the ground truth (overlap 1), the n - 1 others have overlap 1/3:
    # t = 0..0.30 (7 thresholds): all frames; t = 0.35..0.95 (13): frame 0 only; t = 1.0: none
    return (7 * 100.0 + 13 * 100.0 / n) / 21


def test_table_json_plots_and_missing_sequences(tree, tmp_path, capsys):
    root, results = tree
    plots, report_json = tmp_path / "plots", tmp_path / "report.json"
    code = report_main(_args(root, results, "perfect/p", "shifted/p") + ["--plot-dir", str(plots), "--json", str(report_json)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "shifted/p: 1 of 3 sequences have no result file: car2" in captured.err
    rows = {line.split()[0]: line.split()[1:] for line in captured.out.splitlines()[2:]}
    expected_auc = 100.0 * 20 / 21
    assert rows["perfect/p"] == [f"{expected_auc:.2f}", "100.00", "100.00", "100.00", "100.00", "3/3"]
    shifted_auc = (_expected_shifted_auc(5) + _expected_shifted_auc(4)) / 2
    op50 = (100.0 / 5 + 100.0 / 4) / 2
    assert rows["shifted/p"] == [f"{shifted_auc:.2f}", f"{op50:.2f}", f"{op50:.2f}", "100.00", f"{op50:.2f}", "2/3"]
    report = json.loads(report_json.read_text())
    assert report["trackers"]["shifted/p"]["missing"] == ["car2"]
    assert report["trackers"]["perfect/p"]["overall"]["auc"] == pytest.approx(expected_auc)
    assert set(report["trackers"]["perfect/p"]["sequences"]) == set(LENGTHS)
    for kind in ("success", "precision", "norm_precision"):
        assert (plots / f"uav123_10fps_{kind}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wrong_length_and_malformed_files_are_clear_errors(tree, capsys):
    root, results = tree
    path = results / "perfect" / "p" / "boat1.txt"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]))
    assert report_main(_args(root, results, "perfect/p")) == 2
    error = capsys.readouterr().err
    assert "boat1.txt: 2 rows but sequence boat1 has 4 frames" in error and error.count("\n") == 1
    assert report_main(_args(root, results, "perfect/p") + ["--allow-length-mismatch"]) == 0
    capsys.readouterr()
    path.write_text(lines[0] + "1,2,three,4\n")
    assert report_main(_args(root, results, "perfect/p") + ["--allow-length-mismatch"]) == 2
    assert "boat1.txt:2" in capsys.readouterr().err


def test_no_results_and_hidden_ground_truth(tree, tmp_path, capsys):
    root, results = tree
    assert report_main(_args(root, results, "nobody/p")) == 2
    assert "no result files" in capsys.readouterr().err
    tn_root = tmp_path / "tn"
    make_trackingnet_tree(tn_root, {"a": 3})
    (results / "perfect" / "p" / "a.txt").write_text("1,1,1,1\n" * 3)
    code = report_main(["--dataset", "trackingnet", "--dataset-root", str(tn_root), "--results-dir", str(results), "--trackers", "perfect/p"])
    assert code == 2 and "hidden test labels" in capsys.readouterr().err
