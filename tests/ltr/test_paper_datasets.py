"""The paper recipe's data (LaSOT + GOT-10k + TrackingNet + COCO) built from tiny fake trees of the real layouts."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ltr.train_settings.datasets import paper_training, paper_validation
from ltr.train_settings.options import TrainingOptions


def _frames(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        assert cv2.imwrite(str(folder / name), np.zeros((16, 16, 3), np.uint8))


def _fake_trees(root: Path) -> dict[str, str]:
    lasot = root / "lasot"
    _frames(lasot / "cat" / "cat-1" / "img", [f"{k:08d}.jpg" for k in range(1, 4)])
    (lasot / "cat" / "cat-1" / "groundtruth.txt").write_text("2,2,5,5\n" * 3)
    (lasot / "training_set.txt").write_text("cat-1\n")
    got10k = root / "got10k"
    for split, name in (("train", "GOT-10k_Train_000001"), ("val", "GOT-10k_Val_000001")):
        _frames(got10k / split / name, [f"{k:08d}.jpg" for k in range(1, 4)])
        (got10k / split / name / "groundtruth.txt").write_text("1,1,5,5\n" * 3)
    trackingnet = root / "trackingnet"
    for chunk in range(4):  # the recipe reads TRAIN_0..TRAIN_3, one sequence each
        _frames(trackingnet / f"TRAIN_{chunk}" / "frames" / f"seq{chunk}", [f"{k}.jpg" for k in range(3)])
        (trackingnet / f"TRAIN_{chunk}" / "anno").mkdir(parents=True)
        (trackingnet / f"TRAIN_{chunk}" / "anno" / f"seq{chunk}.txt").write_text("1,1,4,4\n" * 3)
    coco = root / "coco"
    _frames(coco / "train2017", ["000000000001.jpg"])
    (coco / "annotations").mkdir(parents=True)
    (coco / "annotations" / "instances_train2017.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "000000000001.jpg"}],
        "annotations": [{"id": 5, "image_id": 1, "bbox": [1, 2, 6, 7], "iscrowd": 0},
                        {"id": 6, "image_id": 1, "bbox": [3, 3, 4, 4], "iscrowd": 0}],
        "categories": [{"id": 1, "name": "thing"}],
    }))
    return {name: str(root / name) for name in ("lasot", "got10k", "trackingnet", "coco")}


def test_paper_training_uses_all_four_sets_with_equal_weights(tmp_path):
    options = TrainingOptions("bbreg", "atom_ebm", tmp_path / "ws", dataset_roots=_fake_trees(tmp_path))
    datasets = paper_training(options)
    assert [weight for _, weight in datasets] == [1.0] * 4
    sizes = [len(dataset) for dataset, _ in datasets]
    assert sizes == [1, 1, 4, 2]  # lasot, got10k, trackingnet (4 chunks), coco (two instances)
    assert not datasets[3][0].is_video
    (validation, _), = paper_validation(options)
    assert validation.sequence_info(0).name == "GOT-10k_Val_000001"


def test_paper_training_names_the_missing_flag(tmp_path, monkeypatch):
    roots = _fake_trees(tmp_path)
    del roots["coco"]
    monkeypatch.delenv("COCO_ROOT", raising=False)
    options = TrainingOptions("bbreg", "atom_ebm", tmp_path / "ws", dataset_roots=roots)
    with pytest.raises(FileNotFoundError, match="--coco-root.*COCO_ROOT"):
        paper_training(options)
