"""run_tracker under torchrun (2 CPU ranks): byte-identical to a single-process run, resumable after a kill,
failures recorded without stopping the other rank; and the longest-first split on hand-computed examples."""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from benchmark_trees import square_boxes, write_video
from helpers import box_iou

from ltr.utils.box_io import format_boxes
from pytracking.evaluation.distributed import RankInfo, rank_info, split_longest_first
from pytracking.evaluation.run_info import command_line
from pytracking.run_tracker import main as run_tracker_main
from trackers.atom_ebm.weights import bundled_model_path

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
FRAME_SIZE = (128, 96)
#: Split over 2 ranks longest first: alpha (20) -> rank 0, bravo (14) -> rank 1, charlie (11) -> rank 1 (25 frames),
#: delta (8) -> rank 0 (28 frames).
LENGTHS = {"alpha": 20, "bravo": 14, "charlie": 11, "delta": 8}
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
TIMEOUT = 300


def _make_folder_dataset(root: Path, lengths: dict[str, int]) -> dict[str, np.ndarray]:
    """``folder`` data set of squares moving over noise; returns the true 0-based boxes per sequence."""
    truth = {}
    for seed, (name, length) in enumerate(sorted(lengths.items())):
        boxes = square_boxes(length, size=FRAME_SIZE, side=24, seed=seed)
        write_video(root / name / "img", boxes, size=FRAME_SIZE, seed=seed)
        (root / name / "groundtruth.txt").write_text(format_boxes(boxes, decimals=0))
        truth[name] = boxes
    return truth


def _environment() -> dict[str, str]:
    """This process's environment without torchrun variables (the test may itself run under a launcher)."""
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_VARIABLES}
    env["OMP_NUM_THREADS"] = "1"  # what torchrun sets anyway; silences its warning
    return env


def _run_args(root: Path, results: Path, tracker: tuple[str, str] = ("atom_ebm", "fast")) -> list[str]:
    return [*tracker, "--dataset", "folder", "--dataset-root", str(root), "--results-dir", str(results),
            "--threads", "1", "--device", "cpu"]


def _torchrun_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone",
            "-m", "pytracking.run_tracker", *args]


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, env=_environment(), capture_output=True, text=True, timeout=TIMEOUT)


def _box_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.txt"))
            if not p.name.endswith("_time.txt") and p.name != "failures.txt"}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    root = tmp_path_factory.mktemp("folder")
    return root, _make_folder_dataset(root, LENGTHS)


@pytest.fixture(scope="module")
def reference(dataset, tmp_path_factory) -> Path:
    """Result folder of a plain single-process run (1 thread, seed 0), after checking it tracked the squares."""
    root, truth = dataset
    results = tmp_path_factory.mktemp("single")
    args = _run_args(root, results)
    single = _run([sys.executable, "-m", "pytracking.run_tracker", *args])
    assert single.returncode == 0, single.stderr[-3000:]
    out = results / "atom_ebm" / "fast"
    for name, boxes in truth.items():
        rows = np.loadtxt(out / f"{name}.txt", delimiter=",")
        assert rows.shape == (LENGTHS[name], 4)
        np.testing.assert_array_equal(rows[0], boxes[0])
        assert box_iou(rows, boxes).mean() > 0.6, name  # it followed the square
    info = json.loads((out / "run_info.json").read_text())
    assert info["command"] == "python -m pytracking.run_tracker " + shlex.join(args)
    assert info["world_size"] == 1 and info["threads"] == 1 and info["device"] == "cpu"
    assert info["versions"] == {"torch": torch.__version__, "torchao": importlib.metadata.version("torchao"),
                                "opencv": cv2.__version__}
    return out


def test_torchrun_two_ranks_is_byte_identical_to_single_process(dataset, reference, tmp_path):
    root, _ = dataset
    args = _run_args(root, tmp_path)
    result = _run(_torchrun_command(args))
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "atom_ebm" / "fast"
    assert _box_files(out) == _box_files(reference) and len(_box_files(out)) == len(LENGTHS)
    for name, length in LENGTHS.items():
        assert len(np.loadtxt(out / f"{name}_time.txt")) == length
    assert not (out / "failures.txt").exists()
    assert result.stdout.count("atom_ebm/fast: 4 of 4 sequences complete, 0 failed") == 1  # rank 0 only
    assert "4/4" in result.stdout  # the score table

    info = json.loads((out / "run_info.json").read_text())
    assert info["command"] == "torchrun --nproc-per-node 2 -m pytracking.run_tracker " + shlex.join(args)
    assert info["argv"] == args and info["world_size"] == 2 and info["threads"] == 1 and info["device"] == "cpu"
    assert info["checkpoint"] == str(bundled_model_path())
    assert info["checkpoint_sha256"] == hashlib.sha256(bundled_model_path().read_bytes()).hexdigest()
    if (REPO / ".git").exists():  # the commit of the run: HEAD then, so HEAD or an ancestor now
        assert len(info["git_commit"]) == 40
        ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", info["git_commit"], "HEAD"], cwd=REPO)
        assert ancestor.returncode == 0, info["git_commit"]
    else:
        assert info["git_commit"] is None
    assert (info["tracker"], info["param"], info["dataset"], info["seed"]) == ("atom_ebm", "fast", "folder", 0)


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _wait_gone(pid: int, deadline: float) -> None:
    """Wait until ``pid`` no longer runs (gone or a zombie nobody reaped)."""
    stat = Path(f"/proc/{pid}/stat")
    while time.monotonic() < deadline:
        try:
            if stat.read_text().rpartition(")")[2].split()[0] == "Z":
                return
        except OSError:
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} still runs after SIGKILL")


def test_killed_torchrun_job_resumes_without_recomputing_finished_sequences(dataset, reference, tmp_path):
    root, _ = dataset
    command = _torchrun_command(_run_args(root, tmp_path))
    out = tmp_path / "atom_ebm" / "fast"
    agent = subprocess.Popen(command, cwd=REPO, env=_environment(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + TIMEOUT
    try:
        while not _box_files(out):
            assert agent.poll() is None, "torchrun ended before writing the first result"
            assert time.monotonic() < deadline, "no result file in time"
            time.sleep(0.01)
    finally:  # SIGKILL everything: torchrun, and each rank (torchrun starts every rank in a session of its own)
        workers = _children(agent.pid)
        os.killpg(agent.pid, signal.SIGKILL)
        agent.wait()
        for worker in workers:
            try:
                os.killpg(worker, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _wait_gone(worker, time.monotonic() + 30)
    assert len(workers) == 2, f"torchrun's ranks not found among its children: {workers}"
    finished = sorted(name[:-4] for name in _box_files(out))
    assert 1 <= len(finished) < len(LENGTHS), f"not killed midway: {finished} finished"
    stamps = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for name in finished
              for p in (out / f"{name}.txt", out / f"{name}_time.txt")}

    resumed = _run(command)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"{len(finished)} of {len(LENGTHS)} sequences already complete" in resumed.stderr
    assert {name: ((out / name).stat().st_mtime_ns, (out / name).stat().st_ino) for name in stamps} == stamps
    assert _box_files(out) == _box_files(reference)


_RANK1_CANNOT_BUILD = """
import os, sys
from trackers.opencv_baseline import OpenCVTracker
from trackers.registry import register_tracker
def build(*, param, checkpoint, device):
    if os.environ["RANK"] == "1":
        raise RuntimeError("rank 1 cannot build (injected)")
    return OpenCVTracker(param)
register_tracker("rank1_fails", build)
from pytracking.run_tracker import main
sys.exit(main(sys.argv[1:]))
"""


def test_failures_of_a_sequence_and_of_a_whole_rank_are_recorded_and_do_not_stop_the_rest(tmp_path):
    # longest first: bad (10) -> rank 0, x (9) -> rank 1, y (8) -> rank 1, good (7) -> rank 0 (after bad)
    lengths = {"bad": 10, "x": 9, "y": 8, "good": 7}
    root = tmp_path / "data"
    truth = _make_folder_dataset(root, lengths)
    first_frame = sorted((root / "bad" / "img").iterdir())[0]
    first_frame.write_bytes(b"not an image")
    script = tmp_path / "rank1_fails.py"
    script.write_text(_RANK1_CANNOT_BUILD)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone", str(script),
               *_run_args(root, tmp_path / "results", ("rank1_fails", "kcf"))]
    result = subprocess.run(command, cwd=REPO, env={**_environment(), "PYTHONPATH": str(REPO)}, capture_output=True,
                            text=True, timeout=TIMEOUT)
    assert result.returncode != 0
    out = tmp_path / "results" / "rank1_fails" / "kcf"
    failures = dict(line.split(": ", 1) for line in (out / "failures.txt").read_text().splitlines())
    assert sorted(failures) == ["bad", "x", "y"]
    assert first_frame.name in failures["bad"]
    assert failures["x"] == failures["y"] == "building the tracker failed: RuntimeError: rank 1 cannot build (injected)"
    assert sorted(_box_files(out)) == ["good.txt"]  # rank 0 went on after its failed sequence
    rows = np.loadtxt(out / "good.txt", delimiter=",")
    assert rows.shape == (lengths["good"], 4) and box_iou(rows, truth["good"]).mean() > 0.5
    assert result.stderr.count("3 of 4 sequences failed (bad, x, y)") == 1  # rank 0 reports it once
    assert result.stdout.count("rank1_fails/kcf: 1 of 4 sequences complete, 3 failed") == 1


def test_tracker_that_does_not_build_stops_every_rank_before_writing(tmp_path):
    root = tmp_path / "data"
    _make_folder_dataset(root, {"one": 3, "two": 3})
    result = _run(_torchrun_command(_run_args(root, tmp_path / "results", ("atom_ebm", "no_such_param"))))
    assert result.returncode != 0
    # every rank fails the same way (the first to exit may make torchrun stop the other before it prints)
    assert "python -m pytracking.run_tracker: error: unknown atom_ebm parameter set 'no_such_param'" in result.stderr
    assert not (tmp_path / "results").exists()


def test_workers_under_torchrun_is_a_usage_error(tmp_path, monkeypatch, capsys):
    for variable, value in (("RANK", "0"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "0"), ("LOCAL_WORLD_SIZE", "2")):
        monkeypatch.setenv(variable, value)
    argv = ["opencv", "kcf", "--dataset", "folder", "--dataset-root", str(tmp_path), "--workers", "2",
            "--results-dir", str(tmp_path / "results")]
    assert run_tracker_main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--workers 2 cannot be combined with torchrun (WORLD_SIZE=2)" in error
    assert not (tmp_path / "results").exists()


def test_split_longest_first_hand_computed():
    # sorted by length: a10 b9 c8 d7 e6 f5; loads after each step (rank 0, rank 1): a (10,0) b (10,9) c (10,17)
    # d (17,17) e: tie -> rank 0 (23,17) f (23,22)
    lengths = {"f": 5, "c": 8, "a": 10, "e": 6, "b": 9, "d": 7}
    assert split_longest_first(lengths, 2) == [["a", "d", "e"], ["b", "c", "f"]]
    # equal lengths go by name; three ranks: x -> 0, y -> 1, z -> 2, then w: loads tie at (4, 4, 4) -> rank 0
    assert split_longest_first({"z": 4, "y": 4, "x": 4, "w": 1}, 3) == [["x", "w"], ["y"], ["z"]]
    assert split_longest_first({"only": 3}, 3) == [["only"], [], []]


def test_split_longest_first_is_deterministic_and_balanced():
    generator = random.Random(7)
    for _ in range(50):
        lengths = {f"seq{i}": generator.randint(1, 3000) for i in range(generator.randint(1, 60))}
        ranks = generator.randint(1, 9)
        shares = split_longest_first(lengths, ranks)
        shuffled = dict(generator.sample(sorted(lengths.items()), len(lengths)))
        assert split_longest_first(shuffled, ranks) == shares
        assert sorted(name for share in shares for name in share) == sorted(lengths)
        loads = [sum(lengths[name] for name in share) for share in shares]
        # LPT: the busiest rank got its last sequence when it was the least loaded
        assert max(loads) - min(loads) <= max(lengths.values())


def test_rank_info_reads_torchrun_environment():
    assert rank_info({}) == RankInfo(0, 1, 0, 1)
    info = rank_info({"RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4"})
    assert info == RankInfo(5, 8, 1, 4) and info.distributed and info.num_nodes == 2
    with pytest.raises(ValueError, match="WORLD_SIZE='two'"):
        rank_info({"WORLD_SIZE": "two"})
    with pytest.raises(ValueError, match="inconsistent torchrun environment"):
        rank_info({"RANK": "2", "WORLD_SIZE": "2"})


def test_recorded_command_line_quotes_arguments_and_names_the_torchrun_layout():
    argv = ["atom_ebm", "default", "--dataset-root", "/data/my data"]
    assert command_line("atom-ebm run", argv, RankInfo()) == "atom-ebm run atom_ebm default --dataset-root '/data/my data'"
    assert command_line("python -m pytracking.run_tracker", argv, RankInfo(3, 8, 1, 4)) == (
        "torchrun --nproc-per-node 4 --nnodes 2 -m pytracking.run_tracker atom_ebm default --dataset-root '/data/my data'")
