"""Data-set builders used by the train settings: ``options -> [(TrainingDataset, sampling weight), ...]``."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from ltr.admin.paths import DATASET_ROOT_SOURCES, resolve_dataset_root
from ltr.dataset.base import TrainingDataset
from ltr.dataset.benchmarks import load_dataset
from ltr.dataset.benchmarks.otb import load_video_folders
from ltr.dataset.benchmarks.sequence import Sequence
from ltr.dataset.coco import COCODataset
from ltr.dataset.got10k import got10k
from ltr.dataset.lasot import lasot
from ltr.dataset.sequences import SequenceListDataset
from ltr.dataset.stills import StillImageDataset
from ltr.dataset.synthetic import SyntheticDataset, SyntheticParams
from ltr.dataset.trackingnet import trackingnet
from ltr.train_settings.options import TrainingOptions

logger = logging.getLogger(__name__)

DatasetList = list[tuple[TrainingDataset, float]]

#: local real sequences (loader name, sub-folder of the local data root, sequence): training data of the synthetic
#: settings
LOCAL_TRAINING_SEQUENCES: tuple[tuple[str, str, str], ...] = (
    ("otb", "sequences/otb", "Crossing"),
    ("uav123_10fps", "uav123_10fps_mini", "wakeboard7"),
)
#: local sequences reserved for tracking evaluation (loader name, sub-folder of the local data root, sequence): never
#: used for training, validation or choosing parameters
HELD_OUT: tuple[tuple[str, str, str], ...] = (
    ("otb", "sequences/otb", "Couple"),
    ("otb", "sequences/otb", "Football1"),
    ("uav123_10fps", "uav123_10fps_mini", "person9"),
)
HELD_OUT_SEQUENCES = frozenset(name for _, _, name in HELD_OUT)

#: synthetic-data seeds: training and validation sequences never coincide
SYNTHETIC_TRAIN_SEED = 0
SYNTHETIC_VAL_SEED = 1_000_000


def local_sequences(options: TrainingOptions) -> TrainingDataset | None:
    """Crossing (OTB) and wakeboard7 (UAV123@10fps) from the local data root, or None when it is absent.

    Without a root (no flag, no ``$ATOM_EBM_LOCAL_DATA``) the sequences are skipped with a warning; a root that is
    given must exist.

    Raises:
        FileNotFoundError: an explicitly given root is missing or empty.
    """
    _, env_var = DATASET_ROOT_SOURCES["local"]
    explicit = options.dataset_roots.get("local")
    try:
        root = resolve_dataset_root("local", explicit)
    except FileNotFoundError as error:
        if explicit or os.environ.get(env_var):
            raise
        logger.warning("local training sequences skipped: %s", error)
        return None
    return _local_sequence_set("local", root)


def _local_sequence_set(name: str, root: Path) -> SequenceListDataset:
    """``LOCAL_TRAINING_SEQUENCES`` under the local data root ``root``, as one data set."""
    sequences = []
    for loader, folder, sequence in LOCAL_TRAINING_SEQUENCES:
        if sequence in HELD_OUT_SEQUENCES:
            raise ValueError(f"sequence {sequence} is held out for evaluation and must not be used for training")
        sequences.extend(load_dataset(loader, root=root / folder, sequences=[sequence]))
    return SequenceListDataset(name, sequences)


#: sets of ``<local data root>/train/sequences`` -> box origin of their ground truth (VOT sets and DAVIS are 0-based)
REAL_TRAINING_SETS: dict[str, int] = {
    "OTB100": 1, "UAV123_10fps": 1, "UAVDT": 1, "DTB70": 1, "OTB_misc": 1, "LaSOT": 1, "VOT2015": 0, "VOT_LT": 0,
    "DAVIS2016": 0,
}
#: still-image sets of ``<local data root>/train/stills``
REAL_TRAINING_STILLS = ("coco128", "voc2012", "cartucho_indoor", "yolomark")
#: sampling weights of the real training data: video pairs and still-image pairs
REAL_VIDEO_WEIGHT, REAL_STILLS_WEIGHT = 0.75, 0.25

#: The selection set: whole sequences of ``<local data root>/train/sequences`` (set, sequence) that the real-data
#: settings never train on, by domain. Tracking parameters are chosen here and IoU-Net training validates here;
#: the held-out evaluation sequences are never used for either. Multi-segment videos (car16_*, group1_*, truck4_*,
#: Skating2-*) stay wholly in training, so no selection frame is a training frame.
SELECTION_SEQUENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "drone": (("UAV123_10fps", "wakeboard3"), ("UAV123_10fps", "truck2"), ("UAV123_10fps", "group3_2"),
              ("UAVDT", "S1001"), ("DTB70", "Gull2")),
    "sports": (("VOT2015", "ball1"), ("OTB100", "Bolt"), ("OTB100", "Diving"), ("OTB100", "Gym"),
               ("OTB100", "Skiing")),
    "otb": (("OTB100", "Dog"), ("OTB100", "Singer1"), ("OTB100", "Vase"), ("OTB100", "Freeman1"),
            ("OTB100", "Walking2")),
    "davis": (("DAVIS2016", "car-roundabout"), ("DAVIS2016", "cows"), ("DAVIS2016", "dance-twirl"),
              ("DAVIS2016", "drift-chicane"), ("DAVIS2016", "kite-surf"), ("DAVIS2016", "motocross-jump")),
    "lost": (("VOT_LT", "skiing"), ("VOT_LT", "yamaha")),
}
#: domains whose sequences also give the IoU-Net's validation pairs (the target is visible in every frame)
VALIDATION_DOMAINS = ("drone", "sports", "otb", "davis")


def selection_sequences(data_root: str | os.PathLike, domains: tuple[str, ...] | None = None
                        ) -> dict[str, list[Sequence]]:
    """The selection set under the local data root, domain -> sequences (all domains of ``SELECTION_SEQUENCES`` by
    default); boxes in each set's own convention (``Sequence.box_origin``).

    Raises:
        FileNotFoundError: a sequence folder is missing (the message names it).
    """
    sequences_root = Path(data_root) / "train" / "sequences"
    result = {}
    for domain in domains or tuple(SELECTION_SEQUENCES):
        result[domain] = []
        for set_name, name in SELECTION_SEQUENCES[domain]:
            result[domain] += load_video_folders(set_name, sequences_root / set_name, [name],
                                                 box_origin=REAL_TRAINING_SETS[set_name])
    return result


def held_out_sequences(data_root: str | os.PathLike) -> list[Sequence]:
    """The held-out evaluation sequences (``HELD_OUT``) under the local data root, in their benchmarks' box
    conventions."""
    return [s for loader, folder, name in HELD_OUT for s in load_dataset(loader, Path(data_root) / folder, sequences=[name])]


def _selection_names() -> set[tuple[str, str]]:
    return {entry for entries in SELECTION_SEQUENCES.values() for entry in entries}


def real_training(options: TrainingOptions) -> DatasetList:
    """The real training data of the local data root: every video of ``<root>/train/sequences`` except the selection
    set, plus OTB Crossing, and the still-image boxes of ``<root>/train/stills``.

    ``<root>/train/sequences/<set>/<seq>/img`` + ``groundtruth.txt`` (box origin per ``REAL_TRAINING_SETS``) and
    ``<root>/train/stills/<set>`` (``REAL_TRAINING_STILLS``). None of them is an evaluation sequence
    (``HELD_OUT_SEQUENCES``) or a selection sequence (``SELECTION_SEQUENCES``).

    Raises:
        FileNotFoundError: the local data root or its ``train`` folder is missing.
    """
    root = _root(options, "local")
    sequences = real_training_videos(root)
    stills = [StillImageDataset(root / "train" / "stills" / name, name=name) for name in REAL_TRAINING_STILLS]
    num_boxes = sum(len(still) for still in stills)  # every still box equally likely
    return [(SequenceListDataset("real_video", sequences), REAL_VIDEO_WEIGHT),
            *((still, REAL_STILLS_WEIGHT * len(still) / num_boxes) for still in stills)]


def real_training_videos(data_root: str | os.PathLike) -> list[Sequence]:
    """The training videos of ``real_training`` under the local data root (0-based boxes).

    Raises:
        ValueError: a held-out evaluation sequence is among them.
    """
    root = Path(data_root)
    selection = _selection_names()
    sequences = []
    for name, box_origin in REAL_TRAINING_SETS.items():
        found = load_video_folders(name, root / "train" / "sequences" / name, None, box_origin=box_origin)
        sequences.extend(sequence for sequence in found if (name, sequence.name) not in selection)
    sequences.extend(load_dataset("otb", root=root / "sequences" / "otb", sequences=["Crossing"]))
    clash = sorted({sequence.name for sequence in sequences} & HELD_OUT_SEQUENCES)
    if clash:
        raise ValueError(f"held-out evaluation sequences {clash} found among the training sequences of {root}")
    return sequences


def real_validation(options: TrainingOptions) -> DatasetList:
    """Pairs of the selection set's drone, sports, OTB and DAVIS sequences, which ``real_training`` never uses.

    Raises:
        FileNotFoundError: the local data root is missing.
    """
    domains = selection_sequences(_root(options, "local"), VALIDATION_DOMAINS)
    return [(SequenceListDataset(f"selection_{domain}", sequences), 1.0) for domain, sequences in domains.items()]


def synthetic_training(options: TrainingOptions) -> TrainingDataset:
    """1000 procedural sequences of 100 frames (seed ``SYNTHETIC_TRAIN_SEED``)."""
    return SyntheticDataset(SyntheticParams(num_sequences=1000, sequence_length=100), seed=SYNTHETIC_TRAIN_SEED,
                            name="synthetic")


def synthetic_and_local(options: TrainingOptions) -> DatasetList:
    """Synthetic sequences (weight 0.8) plus the local real training sequences (0.2) when present."""
    local = local_sequences(options)
    datasets: DatasetList = [(synthetic_training(options), 0.8)]
    if local is not None:
        datasets.append((local, 0.2))
    return datasets


def synthetic_validation(options: TrainingOptions) -> DatasetList:
    """50 held-out procedural sequences (seed ``SYNTHETIC_VAL_SEED``, disjoint from the training seed)."""
    params = SyntheticParams(num_sequences=50, sequence_length=100)
    return [(SyntheticDataset(params, seed=SYNTHETIC_VAL_SEED, name="synthetic_val"), 1.0)]


def paper_training(options: TrainingOptions) -> DatasetList:
    """LaSOT train (1120), GOT-10k train, TrackingNet TRAIN_0..TRAIN_3 and COCO 2017 train, equal weights.

    Difference to the reference (facts section c): the whole GOT-10k train split instead of its
    ``vottrain`` subset (the split lists are not shipped), and COCO 2017 instead of COCO 2014.

    Raises:
        FileNotFoundError: a root is not given (the message names the flag and the variable) or is empty.
    """
    return [
        (lasot(_root(options, "lasot"), split="train"), 1.0),
        (got10k(_root(options, "got10k"), split="train"), 1.0),
        (trackingnet(_root(options, "trackingnet"), chunks=range(4)), 1.0),
        (COCODataset(_root(options, "coco"), split="train2017"), 1.0),
    ]


def paper_validation(options: TrainingOptions) -> DatasetList:
    """GOT-10k val (180 sequences; the reference validates on its ``votval`` part of GOT-10k train)."""
    return [(got10k(_root(options, "got10k"), split="val"), 1.0)]


def _root(options: TrainingOptions, name: str) -> Path:
    """The data set's root from its training flag or environment variable (errors name both)."""
    return resolve_dataset_root(name, options.dataset_roots.get(name))
