"""pytracking.run_video and the frame sources: box files, annotated video, bad input, skipped frames."""
from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from ltr.utils.box_io import load_boxes
from pytracking import run_video
from pytracking.demo import demo_sequence
from pytracking.utils.drawing import annotate
from pytracking.utils.video_io import (
    CaptureSource,
    ImageFolderSource,
    natural_sort_key,
    open_source,
)
from trackers.base import Tracker, TrackerOutput
from trackers.registry import list_trackers, register_tracker


class StepTracker(Tracker):
    """Moves the box one pixel right per frame and records what it was given."""

    images: list = []

    def initialize(self, image, box):
        StepTracker.images = [image]
        self.box = tuple(float(v) for v in box)

    def track(self, image):
        StepTracker.images.append(image)
        x, y, w, h = self.box
        self.box = (x + 1.0, y, w, h)
        return TrackerOutput(self.box, 0.5, {})


if "test_step" not in list_trackers():
    register_tracker("test_step", lambda **kwargs: StepTracker())


@pytest.fixture()
def folder(tmp_path):
    out = tmp_path / "frames"
    out.mkdir()
    for i, path in enumerate(demo_sequence().frames[:5], start=1):
        shutil.copy(path, out / f"frame{i}.jpg")
    return out


def test_folder_run_writes_boxes_and_skips_corrupt_frame(folder, tmp_path, caplog):
    (folder / "frame3.jpg").write_bytes(b"not a jpeg")
    boxes_file = tmp_path / "out" / "boxes.txt"
    status = run_video.main([str(folder), "--init-box", "10", "20", "30", "40", "--tracker", "test_step",
                             "--save-boxes", str(boxes_file)])
    assert status == 0
    boxes = load_boxes(boxes_file)
    expected = [[10, 20, 30, 40], [11, 20, 30, 40], [11, 20, 30, 40], [12, 20, 30, 40], [13, 20, 30, 40]]
    np.testing.assert_allclose(boxes, expected)  # frame 3 unreadable: previous box kept, tracker not called
    assert len(StepTracker.images) == 4
    assert "frame3.jpg" in caplog.text


def test_annotated_video_has_one_frame_per_input(folder, tmp_path):
    video = tmp_path / "annotated.mp4"
    assert run_video.main([str(folder), "--init-box", "100", "100", "20", "40", "--tracker", "test_step",
                           "--save-video", str(video)]) == 0
    capture = cv2.VideoCapture(str(video))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 5
    assert not list(tmp_path.glob(".*partial*"))


def test_real_tracker_end_to_end_on_folder(folder, tmp_path):
    torch.manual_seed(0)
    from ltr.admin.checkpoint import save_checkpoint
    from ltr.models.bbreg.atom import atom_resnet18

    checkpoint = tmp_path / "net.pth.tar"
    save_checkpoint(checkpoint, {"net": atom_resnet18().state_dict(),
                                 "net_constructor": {"name": "atom_resnet18", "kwargs": {}}, "epoch": 0})
    for extra in sorted(folder.glob("*.jpg"))[3:]:
        extra.unlink()
    boxes_file = tmp_path / "boxes.txt"
    assert run_video.main([str(folder), "--init-box", "204", "150", "17", "50", "--checkpoint", str(checkpoint),
                           "--param", "fast", "--device", "cpu", "--save-boxes", str(boxes_file)]) == 0
    boxes = load_boxes(boxes_file)
    assert boxes.shape == (3, 4) and np.isfinite(boxes).all()


@pytest.mark.parametrize("box, message", [
    (["500", "10", "20", "20"], "outside"),
    (["10", "10", "0", "20"], "positive width"),
    (["10", "nan", "20", "20"], "non-finite"),
])
def test_bad_init_box_exits_with_one_line(folder, capsys, box, message):
    assert run_video.main([str(folder), "--init-box", *box, "--tracker", "test_step"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_bad_sources_exit_with_clear_errors(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_video.main([str(empty), "--init-box", "1", "1", "5", "5", "--tracker", "test_step"]) == 2
    err = capsys.readouterr().err
    assert "no images" in err and str(empty) in err
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 1000)
    assert run_video.main([str(broken), "--init-box", "1", "1", "5", "5", "--tracker", "test_step"]) == 2
    err = capsys.readouterr().err
    assert "broken.mp4" in err and err.count("\n") == 1
    assert run_video.main([str(tmp_path / "missing.mp4"), "--init-box", "1", "1", "5", "5"]) == 2
    assert "missing.mp4" in capsys.readouterr().err


def test_missing_box_without_gui_names_the_fix(folder, capsys, monkeypatch):
    monkeypatch.setattr(run_video, "gui_available", lambda: False)
    assert run_video.main([str(folder), "--tracker", "test_step"]) == 2
    assert "pip install opencv-contrib-python" in capsys.readouterr().err


def test_missing_checkpoint_names_all_sources(folder, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("ATOM_EBM_CHECKPOINT", raising=False)
    monkeypatch.setattr("trackers.atom_ebm.weights.bundled_model_path", lambda: tmp_path / "absent.pth")
    assert run_video.main([str(folder), "--init-box", "1", "1", "5", "5", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "--checkpoint" in err and "ATOM_EBM_CHECKPOINT" in err and "absent.pth" in err


def test_natural_sort_and_video_file_source(tmp_path):
    assert sorted(["img10.jpg", "img2.jpg", "img1.jpg"], key=natural_sort_key) == ["img1.jpg", "img2.jpg", "img10.jpg"]
    for name in ("10.png", "2.png", "1.png"):
        cv2.imwrite(str(tmp_path / name), np.full((8, 8, 3), int(name.split(".")[0]), np.uint8))
    source = ImageFolderSource(tmp_path)
    assert [int(frame[0, 0, 0]) for frame in source] == [1, 2, 10]
    video = tmp_path / "blue.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    for _ in range(3):
        writer.write(np.full((24, 32, 3), (255, 0, 0), np.uint8))  # pure blue in BGR
    writer.release()
    frames = list(open_source(video))
    assert len(frames) == 3
    assert frames[0].shape == (24, 32, 3) and frames[0].dtype == np.uint8
    assert frames[0][..., 2].mean() > 200 and frames[0][..., 0].mean() < 50  # RGB: blue is channel 2


def test_capture_source_converts_bgr_to_rgb():
    class FakeCapture:
        def __init__(self):
            self.left = 2

        def read(self):
            self.left -= 1
            return (True, np.full((4, 4, 3), (255, 0, 0), np.uint8)) if self.left >= 0 else (False, None)

        def get(self, prop):
            return 25.0

        def release(self):
            pass

    source = CaptureSource(FakeCapture(), "fake")
    frames = list(source)
    assert source.fps == 25.0 and len(frames) == 2
    assert frames[0][0, 0].tolist() == [0, 0, 255]


def test_annotate_draws_box_edges():
    image = np.zeros((50, 60, 3), np.uint8)
    out = annotate(image, (10, 20, 30, 15))
    assert image.sum() == 0  # input untouched
    assert out[20, 25].tolist() == [0, 255, 0]  # top edge
    assert out[34, 25].tolist() == [0, 255, 0]  # bottom edge at y + h - 1
    assert out[27, 39].tolist() == [0, 255, 0]  # right edge at x + w - 1
    assert out[27, 25].tolist() == [0, 0, 0]  # inside stays empty
    with_text = annotate(image, None, score=0.5, fps=12.0)
    assert with_text[:50, :60].any() and not annotate(image, None).any()


def test_show_without_gui_fails_cleanly(folder, capsys, monkeypatch):
    monkeypatch.setattr(run_video, "gui_available", lambda: False)
    assert run_video.main([str(folder), "--init-box", "1", "1", "5", "5", "--tracker", "test_step", "--show"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--show" in err and "opencv-contrib-python" in err


COUPLE = Path(__file__).resolve().parents[2] / "pytracking" / "demo_data" / "Couple"


@pytest.fixture()
def couple_frames(tmp_path):
    """A folder with the first 3 frames of the bundled Couple sequence (0-based first box 50, 46, 25, 62)."""
    out = tmp_path / "couple"
    out.mkdir()
    for path in sorted((COUPLE / "img").glob("*.jpg"))[:3]:
        shutil.copy(path, out / path.name)
    return out


@pytest.mark.parametrize("option", ["--save-boxes", "--save-video"])
def test_output_path_is_checked_before_tracking(couple_frames, tmp_path, capsys, option):
    """An output path that is a folder: one line naming it, exit 2, nothing tracked, nothing written."""
    StepTracker.images = []
    taken = tmp_path / "taken"
    taken.mkdir()
    before = sorted(tmp_path.rglob("*"))
    argv = [str(couple_frames), "--init-box", "50", "46", "25", "62", "--tracker", "test_step", option, str(taken)]
    assert run_video.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{option} {taken}: is a folder" in err and "Traceback" not in err
    assert StepTracker.images == [] and sorted(tmp_path.rglob("*")) == before


class _BrokenTracker(StepTracker):
    def track(self, image):
        raise RuntimeError("the tracker broke on frame 1")


if "test_broken" not in list_trackers():
    register_tracker("test_broken", lambda **kwargs: _BrokenTracker())


def test_failure_while_tracking_exits_1_with_one_line(couple_frames, capsys):
    argv = [str(couple_frames), "--init-box", "50", "46", "25", "62", "--tracker", "test_broken"]
    assert run_video.main(argv) == 1
    err = capsys.readouterr().err  # after the progress bar, which was drawing when the tracker failed
    assert err.endswith(f"\n{run_video.PROG}: error: the tracker broke on frame 1\n") and "Traceback" not in err


def test_debug_shows_the_traceback_and_keeps_the_status(tmp_path, capsys):
    argv = [str(tmp_path / "missing.mp4"), "--init-box", "1", "1", "5", "5", "--tracker", "test_step"]
    assert run_video.main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert run_video.main([*argv, "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.splitlines()[-1].startswith(f"{run_video.PROG}: error: ")
    assert "missing.mp4" in err.splitlines()[-1]


def test_same_seed_gives_the_same_atom_ebm_boxes(couple_frames, tmp_path, monkeypatch):
    """ATOM-EBM draws random proposals: two identical runs in one process agree only when --seed is applied."""
    monkeypatch.delenv("ATOM_EBM_CHECKPOINT", raising=False)
    runs = []
    for run in range(2):
        boxes_file = tmp_path / f"boxes{run}.txt"
        assert run_video.main([str(couple_frames), "--init-box", "50", "46", "25", "62", "--param", "fast",
                               "--device", "cpu", "--save-boxes", str(boxes_file)]) == 0
        runs.append(boxes_file.read_text())
    assert runs[0] == runs[1] and len(runs[0].splitlines()) == 3
