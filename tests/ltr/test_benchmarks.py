"""Data-set loaders: the real UAV123@10fps / OTB samples in shared/data and small synthetic trees."""
from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
import pytest
from helpers import SHARED

from ltr.dataset.benchmarks import list_datasets, load_dataset
from ltr.dataset.benchmarks.uav123 import to_10fps, uav123_10fps_table, uav123_table

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = SHARED / "data"
UAV_MINI = SHARED_DATA / "uav123_10fps_mini"
OTB_SAMPLES = SHARED_DATA / "sequences" / "otb"
needs_shared = pytest.mark.skipif(not UAV_MINI.is_dir(), reason=f"shared test data not found at {SHARED_DATA}")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _touch_images(folder: Path, numbers, template: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        (folder / template.format(number)).write_bytes(b"")


def test_registry_names():
    assert {"uav123", "uav123_10fps", "otb", "folder", "trackingnet", "lasot", "got10k"} <= set(list_datasets())
    with pytest.raises(ValueError, match="valid names: .*uav123"):
        load_dataset("uav124", "/tmp")


def test_uav123_table_facts():
    table = {e.name: e for e in uav123_table()}
    assert len(table) == 123
    assert sum(e.num_frames for e in table.values()) == 112578
    assert {table[f"bird1_{k}"].folder for k in (1, 2, 3)} == {"bird1"}
    assert table["car1_2"].end_frame == table["car1_3"].start_frame == 1627
    assert (table["wakeboard7"].start_frame, table["wakeboard7"].end_frame) == (1, 199)


def test_uav123_10fps_ranges_hand_computed():
    table = {e.name: e for e in uav123_10fps_table()}
    # 30 fps frames 1, 4, ..., 199 -> 67 frames; person9 1..661 -> 221 (shared/data README)
    assert (table["wakeboard7"].start_frame, table["wakeboard7"].end_frame) == (1, 67)
    assert table["person9"].num_frames == 221
    # bird1_2 spans 30 fps frames 775..1477; kept frames f with (f - 1) % 3 == 0: 775 = 3*258+1 -> 259, 1477 = 3*492+1 -> 493
    bird = to_10fps(next(e for e in uav123_table() if e.name == "bird1_2"))
    assert (bird.start_frame, bird.end_frame) == (259, 493)


@needs_shared
def test_uav123_10fps_real_tree(caplog):
    with caplog.at_level(logging.WARNING):
        sequences = {s.name: s for s in load_dataset("uav123_10fps", UAV_MINI)}
    assert set(sequences) == {"person9", "wakeboard7"}
    wakeboard, person = sequences["wakeboard7"], sequences["person9"]
    assert len(wakeboard) == 67 and wakeboard.ground_truth.shape == (67, 4)
    assert len(person) == 40  # truncated copy: the annotation length wins over the table's 221
    assert "person9" in caplog.text and "221" in caplog.text
    assert "121 sequence(s) missing" in caplog.text
    assert Path(person.frames[39]).name == "000040.jpg" and Path(person.frames[39]).is_file()
    nan_rows = np.flatnonzero(np.isnan(person.ground_truth).any(axis=1)) + 1
    assert nan_rows.tolist() == list(range(17, 29))
    assert wakeboard.ground_truth[0].tolist() == [623, 299, 11, 38]
    assert wakeboard.box_origin == 1 and wakeboard.object_class == "person"


@needs_shared
def test_uav_sequence_selection_and_prefix():
    sequences = load_dataset("uav123_10fps", UAV_MINI, sequences=["uav_wakeboard7"])
    assert [s.name for s in sequences] == ["wakeboard7"]
    with pytest.raises(ValueError, match="no sequence"):
        load_dataset("uav123_10fps", UAV_MINI, sequences=["nonexistent"])


def test_uav_images_fewer_than_annotation(tmp_path, caplog):
    root = tmp_path / "uav"
    _touch_images(root / "data_seq" / "UAV123" / "bike2", range(1, 6), "{:06d}.jpg")
    _write(root / "anno" / "UAV123" / "bike2.txt", "1,2,3,4\n" * 8)
    with caplog.at_level(logging.WARNING):
        (sequence,) = load_dataset("uav123", root, sequences=["bike2"])
    assert len(sequence) == 5 and sequence.ground_truth.shape == (5, 4)
    assert "only 5 of 8" in caplog.text


def test_missing_root_names_flag_and_env_var(monkeypatch, tmp_path):
    monkeypatch.delenv("UAV123_ROOT", raising=False)
    with pytest.raises(FileNotFoundError, match="--dataset-root.*UAV123_ROOT"):
        load_dataset("uav123")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset("uav123", tmp_path / "nowhere")
    monkeypatch.setenv("OTB_ROOT", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no sequences found"):
        load_dataset("otb")


@needs_shared
def test_otb_and_folder_on_real_samples():
    otb = {s.name: s for s in load_dataset("otb", OTB_SAMPLES)}
    assert {"Crossing", "Couple", "Football1"} <= set(otb)
    crossing = otb["Crossing"]  # tab-separated ground truth
    assert len(crossing) == 120 and crossing.ground_truth[0].tolist() == [205, 151, 17, 50]
    assert otb["Football1"].ground_truth.shape == (74, 4) and crossing.box_origin == 1
    folder = {s.name: s for s in load_dataset("folder", OTB_SAMPLES, sequences=["Couple"])}
    assert len(folder["Couple"]) == 140 and folder["Couple"].box_origin == 0


def test_otb_multi_target_and_start_offset(tmp_path):
    _touch_images(tmp_path / "Jogging" / "img", range(1, 5), "{:04d}.jpg")
    _write(tmp_path / "Jogging" / "groundtruth_rect.1.txt", "1\t2\t3\t4\n" * 4)
    _write(tmp_path / "Jogging" / "groundtruth_rect.2.txt", "5 6 7 8\n" * 4)
    _touch_images(tmp_path / "Tiger1" / "img", range(1, 11), "{:04d}.jpg")
    _write(tmp_path / "Tiger1" / "groundtruth_rect.txt", "1,2,3,4\n" * 5)
    sequences = {s.name: s for s in load_dataset("otb", tmp_path)}
    assert set(sequences) == {"Jogging-1", "Jogging-2", "Tiger1"}
    assert sequences["Jogging-2"].ground_truth[0].tolist() == [5, 6, 7, 8]
    assert [Path(f).name for f in sequences["Tiger1"].frames] == [f"{i:04d}.jpg" for i in range(6, 11)]


def test_malformed_ground_truth_names_file_and_line(tmp_path):
    _touch_images(tmp_path / "seq" / "img", range(1, 4), "{:05d}.jpg")
    _write(tmp_path / "seq" / "groundtruth.txt", "1,2,3,4\n1,2,x,4\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"groundtruth\.txt:2"):
        load_dataset("folder", tmp_path)


def test_trackingnet_test_and_train(tmp_path):
    _touch_images(tmp_path / "TEST" / "frames" / "seqA", range(0, 12), "{:d}.jpg")
    _write(tmp_path / "TEST" / "anno" / "seqA.txt", "10,20,30,40\n")
    _write(tmp_path / "TEST" / "anno" / "seqB.txt", "1,1,1,1\n")  # frames missing on disk
    (sequence,) = load_dataset("trackingnet", tmp_path)
    assert sequence.name == "seqA" and len(sequence) == 12
    assert [Path(f).name for f in sequence.frames[8:12]] == ["8.jpg", "9.jpg", "10.jpg", "11.jpg"]
    assert sequence.ground_truth[0].tolist() == [10, 20, 30, 40] and np.isnan(sequence.ground_truth[1:]).all()
    _touch_images(tmp_path / "TRAIN_3" / "frames" / "trainA", range(0, 3), "{:d}.jpg")
    _write(tmp_path / "TRAIN_3" / "anno" / "trainA.txt", "1,2,3,4\n2,3,4,5\n3,4,5,6\n")
    for split in ("train", "TRAIN_3"):
        (train,) = load_dataset("trackingnet", tmp_path, split=split)
        assert len(train) == 3 and train.ground_truth[2].tolist() == [3, 4, 5, 6]
    with pytest.raises(ValueError, match="no split"):
        load_dataset("trackingnet", tmp_path, split="TRAIN_12")


def test_lasot_split_and_visibility(tmp_path, caplog):
    folder = tmp_path / "cat" / "cat-2"
    _touch_images(folder / "img", range(1, 5), "{:08d}.jpg")
    _write(folder / "groundtruth.txt", "1,2,3,4\n" * 4)
    _write(folder / "full_occlusion.txt", "0,1,0,0")
    _write(folder / "out_of_view.txt", "0,0,0,1")
    _touch_images(tmp_path / "cat" / "cat-7" / "img", range(1, 3), "{:08d}.jpg")
    _write(tmp_path / "cat" / "cat-7" / "groundtruth.txt", "1,2,3,4\n" * 2)
    with caplog.at_level(logging.WARNING):
        everything = load_dataset("lasot", tmp_path)
    assert "testing_set.txt" in caplog.text and len(everything) == 2
    _write(tmp_path / "testing_set.txt", "cat-2\ncat-9\n")
    (sequence,) = load_dataset("lasot", tmp_path, split="test")
    assert sequence.name == "cat-2" and sequence.object_class == "cat" and len(sequence) == 4
    assert sequence.target_visible.tolist() == [True, False, True, False]
    assert Path(sequence.frames[3]).name == "00000004.jpg"


def test_got10k_val_visibility_and_test_first_box(tmp_path):
    val = tmp_path / "val" / "GOT-10k_Val_000001"
    _touch_images(val, range(1, 4), "{:08d}.jpg")
    _write(val / "groundtruth.txt", "1,2,3,4\n2,3,4,5\n3,4,5,6\n")
    _write(val / "absence.label", "0\n1\n0\n")
    _write(val / "cover.label", "8\n0\n0\n")
    (sequence,) = load_dataset("got10k", tmp_path)
    copy = pickle.loads(pickle.dumps(sequence))  # lazy sequences must reach DataLoader / runner workers
    assert len(copy) == 3 and copy.ground_truth[2].tolist() == [3, 4, 5, 6]
    assert len(sequence) == 3 and sequence.target_visible.tolist() == [True, False, False]
    test = tmp_path / "test" / "GOT-10k_Test_000001"
    _touch_images(test, range(1, 6), "{:08d}.jpg")
    _write(test / "groundtruth.txt", "7,8,9,10\n")
    (hidden,) = load_dataset("got10k", tmp_path, split="test")
    assert len(hidden) == 5 and hidden.ground_truth.shape == (5, 4)
    assert hidden.ground_truth[0].tolist() == [7, 8, 9, 10] and np.isnan(hidden.ground_truth[1:]).all()
