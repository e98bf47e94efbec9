"""Calibrate a tracking model for int8 inference on x86 CPUs and store the calibration in the model file.

    atom-ebm calibrate MODEL OUT.pth [--crops 64] [--seed 0] [--local-data-root DIR]

Crops like the tracker's (the classifier's 288 px crop at search area 3, the IoU-Net's 192 px window of its 288 px
crop at search area 5) are cut around ground-truth boxes of random frames of the real *training* videos
(``ltr.train_settings.datasets.real_training_videos``: never a selection or held-out evaluation sequence), run
through the backbone with observers (``ltr.models.backbone.quantization.calibrate_int8``), and the observers'
state is written into a copy of MODEL under ``"int8_calibration"``, with the library versions that made it.
``load_network`` restores it; ``precision="int8"`` in the tracker uses it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
from tqdm import tqdm

from ltr.admin.checkpoint import load_checkpoint, save_checkpoint
from ltr.admin.loading import load_network, resolve_checkpoint_path
from ltr.admin.paths import resolve_dataset_root
from ltr.data.normalization import ImageNormalizer
from ltr.data.search_region import SearchRegion
from ltr.dataset.base import box_validity
from ltr.dataset.benchmarks.sequence import Sequence as VideoSequence
from ltr.models.backbone.quantization import calibrate_int8, engine_versions
from ltr.train_settings.datasets import real_training_videos
from ltr.utils.cli_errors import ArgumentParser, run_command
from ltr.utils.image_io import read_image

CALIBRATION_KEY = "int8_calibration"
#: (search-area factor, crop side, side of the centre window fed to the backbone): the tracker's two crops
CROP_KINDS = ((3.0, 288, 288), (5.0, 288, 192))


def calibration_crops(videos: Sequence[VideoSequence], count: int, seed: int) -> Iterator[np.ndarray]:
    """``count`` uint8 RGB crops of each kind of ``CROP_KINDS``, around the boxes of random valid frames."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        video = videos[rng.integers(len(videos))]
        boxes = video.ground_truth
        valid = np.flatnonzero(box_validity(boxes, video.target_visible))
        if valid.size == 0:
            continue
        frame = int(rng.choice(valid))
        x, y, w, h = boxes[frame]
        center = (x - video.box_origin + w / 2, y - video.box_origin + h / 2)
        image = read_image(video.frames[frame])
        for factor, side, window in CROP_KINDS:
            crop = SearchRegion.around(center, (w, h), factor, side).crop(image)
            start = (side - window) // 2
            yield crop[start:start + window, start:start + window]


def calibrate_model(model: str | Path, out: str | Path, data_root: Path, *, crops: int = 64, seed: int = 0,
                    progress: bool = True) -> dict[str, Any]:
    """Write ``model`` with an int8 calibration from ``crops`` training frames to ``out``; return the record."""
    source = resolve_checkpoint_path(model)
    state = load_checkpoint(source)
    if "net" not in state:
        raise ValueError(f"{source}: not one of our model files (no 'net' state dict)")
    net = load_network(source)
    videos = real_training_videos(data_root)
    normalize = ImageNormalizer(net.input_spec)
    batches = (normalize(crop) for crop in calibration_crops(videos, crops, seed))
    total = crops * len(CROP_KINDS)
    observers = calibrate_int8(net.feature_extractor, tqdm(batches, total=total, desc="calibrating", disable=not progress))
    record = {"observers": observers, "versions": engine_versions(), "crops": total, "seed": seed,
              "data": f"{len(videos)} training videos of the local data root"}
    save_checkpoint(out, {**state, CALIBRATION_KEY: record})
    load_network(out)  # the written file must load
    return record


def main(argv: Sequence[str] | None = None, prog: str = "python -m ltr.admin.calibrate") -> int:
    """Entry point: 0 written, 2 a bad model, argument or data root (one line on stderr), 1 a failure while working."""
    parser = ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("model", help="model file (e.g. from atom-ebm export) or training checkpoint")
    parser.add_argument("out", type=Path, help="model file to write, with the calibration (may be MODEL itself)")
    parser.add_argument("--crops", type=int, default=64, help="training frames to calibrate on (two crops each)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the frame choice")
    parser.add_argument("--local-data-root", metavar="DIR", help="root of the local data (or $ATOM_EBM_LOCAL_DATA)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    return run_command(parser, argv, _calibrate)


def _calibrate(args) -> int:
    if args.crops < 1:
        raise ValueError(f"--crops must be >= 1, got {args.crops}")
    data_root = resolve_dataset_root("local", args.local_data_root)
    record = calibrate_model(args.model, args.out, data_root, crops=args.crops, seed=args.seed,
                             progress=args.progress)
    versions = ", ".join(f"{name} {version}" for name, version in record["versions"].items())
    print(f"wrote {args.out}: int8 calibration from {record['crops']} crops ({versions})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
