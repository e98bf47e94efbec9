"""TrackingNet packing, end to end with the OpenCV baseline on a synthetic TEST tree."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
from benchmark_trees import make_trackingnet_tree

from pytracking.run_tracker import main as run_tracker_main
from pytracking.util_scripts.pack_trackingnet_results import main as pack_main

LENGTHS = {"vid_a": 12, "vid_b": 9, "vid_c": 11}


@pytest.fixture()
def tracked(tmp_path):
    root, results = tmp_path / "TrackingNet", tmp_path / "results"
    truth = make_trackingnet_tree(root, LENGTHS)
    code = run_tracker_main(["opencv", "csrt", "--dataset", "trackingnet", "--dataset-root", str(root), "--results-dir", str(results)])
    assert code == 0
    return root, results, truth


def _pack(root, results, out, *extra):
    return pack_main(["opencv", "csrt", "--results-dir", str(results), "--dataset-root", str(root), "--out", str(out), *extra])


def test_zip_layout_and_format(tracked, tmp_path):
    root, results, truth = tracked
    out = tmp_path / "submission.zip"
    assert _pack(root, results, out) == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["vid_a.txt", "vid_b.txt", "vid_c.txt"]  # at the zip root
        for name, boxes in truth.items():
            lines = archive.read(f"{name}.txt").decode().splitlines()
            assert len(lines) == LENGTHS[name]
            assert all(len(v.split(".")[1]) == 2 for line in lines for v in line.split(","))  # %.2f, comma
            packed = np.array([[float(v) for v in line.split(",")] for line in lines])
            np.testing.assert_array_equal(packed[0], boxes[0])
            assert np.abs(packed - boxes).max() <= 3.0  # CSRT followed the square (0-based TrackingNet boxes)


def test_refuses_missing_wrong_length_and_non_finite(tracked, tmp_path, capsys):
    root, results, _ = tracked
    folder = results / "opencv" / "csrt"
    (folder / "vid_a.txt").unlink()
    rows = (folder / "vid_b.txt").read_text().splitlines(keepends=True)
    (folder / "vid_b.txt").write_text("".join(rows[:-1]))
    lines_c = (folder / "vid_c.txt").read_text().splitlines()
    lines_c[3] = "nan,1,2,3"
    (folder / "vid_c.txt").write_text("\n".join(lines_c) + "\n")
    out = tmp_path / "refused.zip"
    assert _pack(root, results, out) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "1 missing: vid_a" in error
    assert "vid_b (8 rows, 9 frames)" in error and "non-finite values: vid_c" in error
    assert not out.exists()
    assert _pack(root, results, out, "--allow-partial") == 2  # nothing usable left
    (folder / "vid_b.txt").write_text("".join(rows))
    assert _pack(root, results, out, "--allow-partial") == 0
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["vid_b.txt"]


def test_bad_root_is_one_line_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TRACKINGNET_ROOT", raising=False)
    assert pack_main(["opencv", "csrt", "--out", str(tmp_path / "x.zip")]) == 2
    error = capsys.readouterr().err
    assert "TRACKINGNET_ROOT" in error and error.count("\n") == 1
