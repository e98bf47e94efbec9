"""Per-stage wall time of one tracked frame (``TrackerOutput.timings``)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

import torch

#: the stages ``AtomEbmTracker.track`` reports: the backbone passes, the IoU-Net's test features (its convolutions on
#: the backbone maps), the online classifier (scoring, localisation, update), the box refinement (initial boxes,
#: gradient ascent, top-k) and the rest (crops, normalisation, state)
STAGES = ("backbone", "iou_features", "classifier", "refinement", "other")


class StageTimer:
    """Adds the wall time spent inside ``with timer.stage(name):`` blocks to the named stage.

    On CUDA, work is queued asynchronously, so a stage boundary means something only after a synchronisation: the
    timer synchronises at each boundary only when ``enabled``, and then reports; otherwise it reports nothing. On
    the CPU the boundaries cost nothing and the times are always reported.
    """

    def __init__(self, device: torch.device, enabled: bool):
        self.device = device
        self.reporting = enabled or device.type != "cuda"
        self.synchronising = enabled and device.type == "cuda"
        self.seconds = dict.fromkeys(STAGES, 0.0)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as part of stage ``name`` (one of ``STAGES``)."""
        if name not in self.seconds:
            raise ValueError(f"unknown stage {name!r}; stages: {STAGES}")
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.seconds[name] += time.perf_counter() - start

    def _sync(self) -> None:
        if self.synchronising:
            torch.cuda.synchronize(self.device)

    def timings(self) -> dict[str, float]:
        """Seconds per stage ({} on CUDA without synchronisation)."""
        return dict(self.seconds) if self.reporting else {}
