"""Training views over real layouts: tiny fake GOT-10k / LaSOT / TrackingNet / COCO trees and the shared real data."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import SHARED

from ltr.data.processing import ATOMProcessing
from ltr.data.sampler import ATOMSampler
from ltr.dataset.coco import COCODataset
from ltr.dataset.folder import otb
from ltr.dataset.got10k import got10k
from ltr.dataset.lasot import lasot
from ltr.dataset.trackingnet import trackingnet
from ltr.dataset.uav123 import uav123

SHARED_DATA = SHARED / "data"


def _write_frames(folder: Path, names: list[str]) -> None:
    """Frame k is a 24x32 image of gray level 20 * (k + 1)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(names):
        assert cv2.imwrite(str(folder / name), np.full((24, 32, 3), 20 * (k + 1), np.uint8))


def _levels(images: list[np.ndarray]) -> list[int]:
    return [int(round(image.mean() / 20)) - 1 for image in images]


def test_got10k_train_validity(tmp_path, caplog):
    split = tmp_path / "train"
    good = split / "GOT-10k_Train_000001"
    _write_frames(good, [f"{k:08d}.jpg" for k in range(1, 7)])
    (good / "groundtruth.txt").write_text("1,2,10,12\nnan,nan,nan,nan\n3,4,0,5\n5,6,7,8\n9,9,9,9\n1,1,4,4\n")
    (good / "absence.label").write_text("0\n0\n0\n1\n0\n0\n")
    (good / "cover.label").write_text("8\n8\n8\n8\n0\n3\n")
    empty = split / "GOT-10k_Train_000002"
    _write_frames(empty, ["00000001.jpg", "00000002.jpg"])
    (empty / "groundtruth.txt").write_text("nan,nan,nan,nan\n1,1,0,0\n")
    with caplog.at_level(logging.WARNING):
        dataset = got10k(root=tmp_path, split="train")
    assert len(dataset) == 1 and "GOT-10k_Train_000002" in caplog.text
    info = dataset.sequence_info(0)
    np.testing.assert_array_equal(info.valid, [True, False, False, False, False, True])
    np.testing.assert_array_equal(info.boxes[0], [1, 2, 10, 12])
    assert _levels(dataset.frames(0, [5, 0, 5])) == [5, 0, 5]
    with pytest.raises(ValueError, match="'train' or 'val'"):
        got10k(root=tmp_path, split="test")


def test_lasot_one_based_boxes_and_flags(tmp_path):
    folder = tmp_path / "cat" / "cat-1"
    _write_frames(folder / "img", [f"{k:08d}.jpg" for k in range(1, 6)])
    (folder / "groundtruth.txt").write_text("11,21,5,6\n12,22,5,6\n13,23,5,6\n14,24,5,6\n15,25,5,6\n")
    (folder / "full_occlusion.txt").write_text("0,0,1,0,0")
    (folder / "out_of_view.txt").write_text("0,0,0,1,0")
    (tmp_path / "training_set.txt").write_text("cat-1\n")
    dataset = lasot(root=tmp_path)
    info = dataset.sequence_info(0)
    np.testing.assert_array_equal(info.valid, [True, True, False, False, True])
    np.testing.assert_array_equal(info.boxes[:, :2], [[10, 20], [11, 21], [12, 22], [13, 23], [14, 24]])
    assert _levels(dataset.frames(0, [4])) == [4]
    (tmp_path / "training_set.txt").unlink()
    with pytest.raises(FileNotFoundError, match="training_set.txt"):
        lasot(root=tmp_path)  # never fall back to all sequences (test ones included)


def test_trackingnet_chunks(tmp_path):
    for chunk, name in ((0, "seqA"), (1, "seqB")):
        _write_frames(tmp_path / f"TRAIN_{chunk}" / "frames" / name, [f"{k}.jpg" for k in range(3)])
        (tmp_path / f"TRAIN_{chunk}" / "anno").mkdir(parents=True)
        (tmp_path / f"TRAIN_{chunk}" / "anno" / f"{name}.txt").write_text("1,1,3,3\n2,2,3,3\n3,3,3,3\n")
    assert [dataset.sequence_info(0).name for dataset in [trackingnet(root=tmp_path, chunks=[0])]] == ["seqA"]
    both = trackingnet(root=tmp_path, chunks=[0, 1])
    assert sorted(both.sequence_info(i).name for i in range(len(both))) == ["seqA", "seqB"]
    assert _levels(both.frames(0, [0, 2])) == [0, 2]
    with pytest.raises(ValueError, match="0..11"):
        trackingnet(root=tmp_path, chunks=[12])


def _coco_tree(root: Path) -> None:
    (root / "annotations").mkdir(parents=True)
    _write_frames(root / "train2017", ["000000000001.jpg", "000000000002.jpg"])
    data = {
        "images": [{"id": 1, "file_name": "000000000001.jpg"}, {"id": 2, "file_name": "000000000002.jpg"}],
        "annotations": [
            {"id": 10, "image_id": 2, "bbox": [1.5, 2.0, 8.0, 9.0], "iscrowd": 0},
            {"id": 11, "image_id": 1, "bbox": [0.0, 0.0, 30.0, 20.0], "iscrowd": 1},
            {"id": 12, "image_id": 1, "bbox": [4.0, 4.0, 0.0, 3.0], "iscrowd": 0},
            {"id": 13, "image_id": 1, "bbox": [3.0, 5.0, 6.0, 7.0], "iscrowd": 0},
        ],
        "categories": [{"id": 1, "name": "thing"}],
    }
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(data))


def test_coco_instances(tmp_path):
    _coco_tree(tmp_path)
    dataset = COCODataset(root=tmp_path)
    assert not dataset.is_video and len(dataset) == 2
    infos = {dataset.sequence_info(i).name: (i, dataset.sequence_info(i)) for i in range(2)}
    assert set(infos) == {"coco_10", "coco_13"}
    index, info = infos["coco_10"]
    np.testing.assert_array_equal(info.boxes, [[1.5, 2.0, 8.0, 9.0]])
    assert _levels(dataset.frames(index, [0, 0])) == [1, 1]  # image 2 is the second file written
    sampler = ATOMSampler([dataset], [1], 4, 10, ATOMProcessing(output_sz=32, num_proposals=4), seed=0)
    assert sampler[0]["train_images"].shape == (3, 32, 32)


def test_missing_roots_name_argument_and_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("COCO_ROOT", raising=False)
    monkeypatch.delenv("GOT10K_ROOT", raising=False)
    with pytest.raises(FileNotFoundError, match="--coco-root.*COCO_ROOT"):
        COCODataset()
    with pytest.raises(FileNotFoundError, match="GOT10K_ROOT"):
        got10k()
    (tmp_path / "annotations").mkdir()
    with pytest.raises(FileNotFoundError, match="instances_train2017.json"):
        COCODataset(root=tmp_path)


def test_unreadable_image_names_the_file(tmp_path):
    folder = tmp_path / "train" / "seq"
    _write_frames(folder, ["00000001.jpg", "00000002.jpg"])
    (folder / "00000002.jpg").write_bytes(b"not a jpeg")
    (folder / "groundtruth.txt").write_text("1,1,4,4\n1,1,4,4\n")
    dataset = got10k(root=tmp_path)
    with pytest.raises(ValueError, match="00000002.jpg"):
        dataset.frames(0, [1])


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"shared real sequences not found at {SHARED_DATA}")
def test_shared_real_sequences():
    crossing = otb(root=SHARED_DATA / "sequences" / "otb", sequences=["Crossing"])
    info = crossing.sequence_info(0)
    assert len(info) == 120 and info.valid.all()
    np.testing.assert_array_equal(info.boxes[0], [204, 150, 17, 50])  # file row 205,151,17,50 is 1-based
    assert crossing.frames(0, [119])[0].shape == (240, 360, 3)
    uav = uav123(root=SHARED_DATA / "uav123_10fps_mini", sequences=["person9", "wakeboard7"], fps10=True)
    person9 = uav.sequence_info(0)
    assert person9.name == "person9" and len(person9) == 40
    np.testing.assert_array_equal(np.flatnonzero(~person9.valid), np.arange(16, 28))  # file rows 17-28 are NaN
    assert uav.sequence_info(1).valid.all() and len(uav.sequence_info(1)) == 67
