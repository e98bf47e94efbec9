"""The got10k toolkit runs our trackers (``Got10kTracker``), and its own reports equal ours (protocol got10k).

``ExperimentOTB`` runs atom_ebm on a procedural OTB tree: two sequences under real OTB-2013 names. It builds
``got10k.datasets.OTB(root, version, download=True)``, which downloads every sequence folder of the version that
is missing, then lists the sequences that have a ``groundtruth*.txt``. So the test makes an empty folder for
every other name of the version (the names are read from the toolkit, which keeps them in a private class
attribute): nothing is downloaded and only our two sequences run. ``ExperimentUAV123`` and ``ExperimentGOT10k``
run OpenCV CSRT (fast, deterministic). No toolkit code is patched.
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from benchmark_trees import make_uav123_tree, square_boxes, write_video

got10k_experiments = pytest.importorskip("got10k.experiments", reason="the got10k test dependency is not installed")
from got10k.datasets import OTB  # noqa: E402
from got10k.trackers import Tracker as ToolkitTracker  # noqa: E402
from got10k.utils.metrics import rect_iou  # noqa: E402

from ltr.dataset.benchmarks import load_dataset  # noqa: E402
from ltr.utils.box_io import format_boxes, load_boxes  # noqa: E402
from ltr.utils.files import atomic_write_text  # noqa: E402
from pytracking.analysis.report import main as report_main  # noqa: E402
from pytracking.evaluation.runner import (  # noqa: E402
    RunSpec,
    result_dir,
    result_file,
    run_dataset,
)
from pytracking.integrations.got10k_tracker import (  # noqa: E402
    Got10kTracker,
    video_name,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

VERSION = 2013
#: real OTB-2013 names without the toolkit's frame-range special cases (David, Football1, Freeman3/4)
LENGTHS = {"Boy": 10, "Coke": 8}
SPEC = RunSpec("atom_ebm", "fast", device="cpu")
#: mean IoU floor: the bundled model scores ~0.8 on these squares, keeping the first box ~0.15-0.3
IOU_FLOOR = 0.6


def make_otb_tree(root: Path, lengths: dict[str, int]) -> dict[str, np.ndarray]:
    """OTB layout with procedural frames for ``lengths`` and an empty folder for every other name of ``VERSION``.

    Returns the 1-based (x, y, w, h) ground truth written to each ``groundtruth_rect.txt``.
    """
    for name in getattr(OTB, "_OTB__version_dict")[VERSION]:
        (root / name).mkdir(parents=True, exist_ok=True)
    truth = {}
    for seed, (name, length) in enumerate(sorted(lengths.items())):
        boxes = square_boxes(length, seed=seed)
        write_video(root / name / "img", boxes, name_format="{:04d}.jpg", seed=seed)
        boxes[:, :2] += 1
        atomic_write_text(root / name / "groundtruth_rect.txt", format_boxes(boxes, decimals=0))
        truth[name] = boxes
    return truth


@contextlib.contextmanager
def toolkit_plots():
    """Around the toolkit's ``report``: its plots change matplotlib's global font sizes and leave figures open."""
    open_before = set(plt.get_fignums())
    with matplotlib.rc_context():
        yield
    for number in set(plt.get_fignums()) - open_before:
        plt.close(number)


def assert_reports_agree(ours: dict, toolkit: dict, names: list[str]) -> None:
    """Our report's JSON entry of one tracker (percent) equals the toolkit's ``performance.json`` entry ([0, 1]) to
    1e-6: success AUC, precision score, success rate (OP50) and both curves, per sequence and overall."""
    assert ours["missing"] == [] and sorted(ours["sequences"]) == sorted(toolkit["seq_wise"]) == names
    pairs = [(ours["overall"], toolkit["overall"])] + [(ours["sequences"][n], toolkit["seq_wise"][n]) for n in names]
    for mine, theirs in pairs:
        assert mine["auc"] / 100 == pytest.approx(theirs["success_score"], abs=1e-6)
        assert mine["precision"] / 100 == pytest.approx(theirs["precision_score"], abs=1e-6)
        assert mine["op50"] / 100 == pytest.approx(theirs["success_rate"], abs=1e-6)
        np.testing.assert_allclose(np.array(mine["success_curve"]) / 100, theirs["success_curve"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(np.array(mine["precision_curve"]) / 100, theirs["precision_curve"], rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def toolkit_run(tmp_path_factory):
    """Run ``ExperimentOTB`` with our tracker and report it; returns (tree, truth, results root, report dict)."""
    base = tmp_path_factory.mktemp("got10k")
    tree = base / "OTB"
    truth = make_otb_tree(tree, LENGTHS)
    tracker = Got10kTracker(SPEC, box_origin=1, progress=False)
    experiment = got10k_experiments.ExperimentOTB(str(tree), version=VERSION, result_dir=str(base / "results"),
                                                  report_dir=str(base / "reports"))
    assert experiment.dataset.seq_names == sorted(LENGTHS)
    experiment.run(tracker)
    with toolkit_plots():
        experiment.report([tracker.name])
    performance = json.loads((base / "reports" / f"OTB{VERSION}" / tracker.name / "performance.json").read_text())
    return tree, truth, base / "results", performance[tracker.name]


def test_toolkit_report_equals_our_report(toolkit_run, tmp_path):
    tree, _, results, toolkit = toolkit_run
    # the toolkit's files <results>/OTB2013/atom_ebm_fast/<seq>.txt are our layout <dir>/<tracker>/<param>/<seq>.txt
    label = f"OTB{VERSION}/{SPEC.tracker_name}_{SPEC.param}"
    ours_json = tmp_path / "ours.json"
    code = report_main(["--dataset", "otb", "--dataset-root", str(tree), "--results-dir", str(results),
                        "--trackers", label, "--protocol", "got10k", "--json", str(ours_json)])
    assert code == 0
    assert_reports_agree(json.loads(ours_json.read_text())["trackers"][label], toolkit, sorted(LENGTHS))


def test_tracker_follows_the_square(toolkit_run):
    _, truth, results, _ = toolkit_run
    for name, gt in truth.items():
        boxes = np.loadtxt(results / f"OTB{VERSION}" / f"{SPEC.tracker_name}_{SPEC.param}" / f"{name}.txt", delimiter=",")
        np.testing.assert_allclose(boxes[0], gt[0])  # the toolkit's convention (1-based) comes back unchanged
        tracked = rect_iou(boxes[1:], gt[1:]).mean()
        static = rect_iou(np.repeat(gt[:1], len(gt) - 1, axis=0), gt[1:]).mean()
        print(f"{name}: mean IoU tracked {tracked:.3f}, first box kept {static:.3f}")
        assert static < IOU_FLOOR < tracked, (name, static, tracked)


def test_toolkit_boxes_equal_our_runner(toolkit_run, tmp_path):
    """Same frames, seed and box conversion as ``run_tracker`` on our OTB loader: equal up to the files' rounding
    (the toolkit writes 3 decimals, our runner 2). One sequence, to keep the test short."""
    tree, _, results, _ = toolkit_run
    [sequence] = load_dataset("otb", str(tree), sequences=["Coke"])
    assert sequence.box_origin == 1.0
    assert run_dataset(SPEC, [sequence], tmp_path) == {}
    ours = load_boxes(result_file(result_dir(tmp_path, SPEC.tracker_name, SPEC.param), sequence.name))
    toolkit = load_boxes(results / f"OTB{VERSION}" / f"{SPEC.tracker_name}_{SPEC.param}" / f"{sequence.name}.txt")
    np.testing.assert_allclose(toolkit, ours, rtol=0, atol=0.0051)


def test_init_update_match_track(tmp_path):
    """The toolkit's own frame loop (PIL images through ``init`` / ``update``) gives ``track``'s boxes.

    PNG frames, so that PIL and our reader decode the same pixels; OpenCV CSRT is deterministic and fast.
    """
    gt = square_boxes(8, seed=5)
    gt[:, :2] += 1  # 1-based, as the toolkit passes OTB boxes
    files = [str(p) for p in write_video(tmp_path / "Seq" / "img", gt, name_format="{:04d}.png", seed=5)]
    assert video_name(files) == "Seq"
    tracker = Got10kTracker(RunSpec("opencv", "csrt"), box_origin=1, name="csrt", progress=False)
    boxes, times = tracker.track(files, gt[0])
    loop_boxes, _ = ToolkitTracker.track(tracker, files, gt[0])
    assert boxes.shape == (8, 4) and times.shape == (8,)
    np.testing.assert_array_equal(loop_boxes, boxes)
    assert rect_iou(boxes, gt).mean() > IOU_FLOOR


def test_uav123_experiment_drops_absent_frames_like_our_report(tmp_path):
    """``ExperimentUAV123`` (1-based boxes, frames with a NaN ground truth left out of the scores) on the real
    30 fps range of uav6 (109 frames), with OpenCV CSRT; the toolkit's report equals ours."""
    root = tmp_path / "UAV123"
    truth = make_uav123_tree(root, {"uav6": 109}, subdir="UAV123")["uav6"]
    anno = root / "anno" / "UAV123" / "uav6.txt"
    lines = anno.read_text().splitlines(keepends=True)
    atomic_write_text(anno, "".join("NaN,NaN,NaN,NaN\n" if 40 <= i < 55 else line for i, line in enumerate(lines)))
    # the toolkit takes a root with at most 3 entries for a missing data set (the release has more than anno/, data_seq/)
    (root / "configSeqs").mkdir()
    (root / "README").mkdir()
    tracker = Got10kTracker(RunSpec("opencv", "csrt"), box_origin=1, progress=False)
    experiment = got10k_experiments.ExperimentUAV123(str(root), result_dir=str(tmp_path / "results"),
                                                     report_dir=str(tmp_path / "reports"))
    experiment.run(tracker)
    with toolkit_plots():
        toolkit = experiment.report([tracker.name])[tracker.name]
    boxes = np.loadtxt(tmp_path / "results" / "UAV123" / tracker.name / "uav6.txt", delimiter=",")
    truth[:, :2] += 1
    assert rect_iou(boxes[1:], truth[1:]).mean() > IOU_FLOOR
    ours_json = tmp_path / "ours.json"
    assert report_main(["--dataset", "uav123", "--dataset-root", str(root), "--sequence", "uav6",
                        "--results-dir", str(tmp_path / "results"), "--trackers", f"UAV123/{tracker.name}",
                        "--protocol", "got10k", "--json", str(ours_json)]) == 0
    ours = json.loads(ours_json.read_text())["trackers"][f"UAV123/{tracker.name}"]
    assert ours["sequences"]["uav6"]["num_valid"] == 109 - 15
    assert_reports_agree(ours, toolkit, ["uav6"])


def test_got10k_experiment_passes_0_based_boxes(tmp_path):
    """``ExperimentGOT10k`` (val; 0-based boxes, ``box_origin=0``) gives our runner's boxes on our GOT-10k loader,
    once per sequence (the adapter is deterministic, so the toolkit skips its repetitions)."""
    name = "GOT-10k_Val_000001"
    root = tmp_path / "GOT10k"
    truth = square_boxes(12, seed=7)
    write_video(root / "val" / name, truth, name_format="{:08d}.jpg", seed=7)
    atomic_write_text(root / "val" / name / "groundtruth.txt", format_boxes(truth, decimals=4))
    atomic_write_text(root / "val" / "list.txt", name + "\n")
    tracker = Got10kTracker(RunSpec("opencv", "csrt"), box_origin=0, progress=False)
    experiment = got10k_experiments.ExperimentGOT10k(str(root), subset="val", result_dir=str(tmp_path / "results"),
                                                     report_dir=str(tmp_path / "reports"))
    experiment.run(tracker)
    records = sorted((tmp_path / "results" / "GOT-10k" / tracker.name / name).glob(f"{name}_[0-9]*.txt"))
    assert [r.name for r in records] == [f"{name}_001.txt"]
    assert run_dataset(RunSpec("opencv", "csrt"), load_dataset("got10k", str(root), split="val"), tmp_path / "ours") == {}
    ours = load_boxes(result_file(result_dir(tmp_path / "ours", "opencv", "csrt"), name))
    np.testing.assert_allclose(load_boxes(records[0]), ours, rtol=0, atol=0.0051)
    assert rect_iou(ours[1:], truth[1:]).mean() > IOU_FLOOR
