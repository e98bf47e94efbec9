"""Our trackers behind the got10k toolkit's ``got10k.trackers.Tracker`` interface.

With it the toolkit's own experiments run our tracker and write and score their own result files::

    from got10k.experiments import ExperimentOTB
    from pytracking.evaluation.runner import RunSpec
    from pytracking.integrations.got10k_tracker import Got10kTracker

    tracker = Got10kTracker(RunSpec("atom_ebm", "default", device="cpu"), box_origin=1)
    experiment = ExperimentOTB("/data/OTB100", version=2015, result_dir="results", report_dir="reports")
    experiment.run(tracker)
    experiment.report([tracker.name])

Box convention. The toolkit hands the tracker the first row of the benchmark's annotation file unchanged
(``tracker.track(img_files, anno[0, :])`` in ``ExperimentOTB.run`` / ``ExperimentGOT10k.run``; ``anno`` is
``np.loadtxt`` of ``groundtruth_rect.txt`` in ``got10k/datasets/otb.py``, of ``anno/UAV123/<seq>.txt`` in
``datasets/uav123.py`` and of ``groundtruth.txt`` in ``datasets/got10k.py``) and scores the returned boxes
against the same file. So boxes are in the benchmark's own convention: 1-based (x, y, w, h) for OTB and UAV123
(Matlab convention, ``box_origin=1``), 0-based for GOT-10k (``box_origin=0``) - the ``Sequence.box_origin`` of
our loaders for the same data sets. ``box_origin`` is subtracted from (x, y) before the tracker sees the box and
added back to its output, exactly as ``pytracking.evaluation.runner.run_sequence`` does.

Images. ``track`` (what the experiments call) runs ``run_sequence`` on the image files, so frames are decoded
by our ``read_image`` and the boxes are those ``python -m pytracking.run_tracker`` writes for the same sequence
and seed (the toolkit then rounds them to 3 decimals). ``init`` / ``update`` (used by the toolkit's
``visualize=True`` loop and by ``ExperimentVOT``) take the toolkit's PIL images (converted to RGB uint8).

got10k is an optional (test) dependency: this module imports it, nothing else in the package imports this module.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence as SequenceType

import numpy as np
from got10k.trackers import Tracker as ToolkitTracker
from PIL import Image

from ltr.dataset.benchmarks.sequence import Sequence
from pytracking.evaluation.runner import RunSpec, run_sequence, seed_sequence


def video_name(img_files: SequenceType[str | os.PathLike]) -> str:
    """Name of the video holding ``img_files``: the frames' folder, or its parent when that folder is ``img``
    (OTB layout ``<Seq>/img/0001.jpg``). It names the sequence for seeding; for OTB, GOT-10k and UAV123 it is
    the sequence name our loaders use (except videos split into several sequences, e.g. UAV123 ``bird1_1``)."""
    folder = Path(img_files[0]).parent
    return folder.parent.name if folder.name == "img" else folder.name


class Got10kTracker(ToolkitTracker):
    """A tracker of our registry, driven by the got10k toolkit.

    Args:
        spec: what to build (tracker name, parameter set, checkpoint, device, base seed, model folder); built once.
        box_origin: pixel coordinate of the top-left pixel in the toolkit's boxes: 1 for ``ExperimentOTB`` and
            ``ExperimentUAV123``, 0 for ``ExperimentGOT10k`` (see the module docstring).
        name: the toolkit's tracker name, also its result and report folder name; default ``<tracker>_<param>``.
        progress: show a tqdm bar over the frames of each sequence.

    ``track`` seeds every sequence with ``seed_sequence(video_name(img_files), spec.seed)`` as our runner seeds
    it, so the toolkit may run it once per sequence (``is_deterministic``: GOT-10k's three repetitions would repeat
    the same run).
    """

    def __init__(self, spec: RunSpec, *, box_origin: float, name: str | None = None, progress: bool = True):
        super().__init__(name=name or f"{spec.tracker_name}_{spec.param}", is_deterministic=True)
        self.spec = spec
        self.box_origin = float(box_origin)
        self.progress = progress
        self.tracker = spec.build()
        self._offset = np.array([self.box_origin, self.box_origin, 0.0, 0.0])

    def track(self, img_files: SequenceType[str], box: np.ndarray, visualize: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Track one sequence from ``box`` (x, y, w, h in the toolkit's convention) in frame 0.

        Returns:
            boxes float64 [N, 4] in the toolkit's convention (row 0 = ``box``), seconds per frame float64 [N].
        """
        name = video_name(img_files)
        seed_sequence(name, self.spec.seed)
        if visualize:  # the toolkit's own loop draws every frame through init / update
            return super().track(img_files, box, visualize=True)
        ground_truth = np.full((len(img_files), 4), np.nan)
        ground_truth[0] = box
        sequence = Sequence(name, [str(f) for f in img_files], ground_truth, "got10k_toolkit", box_origin=self.box_origin)
        boxes, times, _ = run_sequence(self.tracker, sequence, progress=self.progress)
        return boxes, times

    def init(self, image: Image.Image, box: SequenceType[float]) -> None:
        """Start on ``image`` (PIL) with ``box`` (x, y, w, h) in the toolkit's convention."""
        rgb = np.array(image.convert("RGB"))
        self.tracker.initialize(rgb, (np.asarray(box, dtype=np.float64) - self._offset).tolist())

    def update(self, image: Image.Image) -> np.ndarray:
        """The target's box (x, y, w, h; toolkit convention, float64 [4]) in the next ``image`` (PIL)."""
        output = self.tracker.track(np.array(image.convert("RGB")))
        return np.asarray(output.box, dtype=np.float64) + self._offset
