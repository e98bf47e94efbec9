"""Per-stage wall time of one tracked frame (``TrackerOutput.timings``)."""
from __future__ import annotations

import time

import torch

#: the stages ``AtomEbmTracker.track`` reports: the backbone passes, the IoU-Net's test features (its convolutions on
#: the backbone maps), the online classifier (scoring, localisation, update), the box refinement (initial boxes,
#: gradient ascent, top-k) and the rest (crops, normalisation)
STAGES = ("backbone", "iou_features", "classifier", "refinement", "other")


class StageTimer:
    """Adds the time since the previous mark to a named stage.

    On CUDA, work is queued asynchronously, so a stage boundary means something only after a synchronisation: the
    timer synchronises at each mark only when ``enabled``, and then reports; otherwise it reports nothing. On the
    CPU the marks cost nothing and the times are always reported.
    """

    def __init__(self, device: torch.device, enabled: bool):
        self.device = device
        self.reporting = enabled or device.type != "cuda"
        self.synchronising = enabled and device.type == "cuda"
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self._last = time.perf_counter()

    def mark(self, stage: str) -> None:
        """The time since the previous mark (or the start) belongs to ``stage``."""
        if self.synchronising:
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        self.seconds[stage] += now - self._last
        self._last = now

    def timings(self) -> dict[str, float]:
        """Seconds per stage ({} on CUDA without synchronisation)."""
        return dict(self.seconds) if self.reporting else {}
