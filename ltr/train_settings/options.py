"""``TrainingOptions``: what the command line passes to a settings module's ``run(settings)``.

Fields left as None mean "use the settings module's default". The options are stored in every checkpoint
as JSON-able values (``to_json``), never as a pickled object.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TrainingOptions:
    """Run options of one training job.

    Attributes:
        module: settings package, e.g. ``"bbreg"``.
        name: settings module inside it, e.g. ``"atom_ebm"``.
        workspace: root of checkpoints and logs.
        epochs: last epoch to train; None = settings default.
        samples_per_epoch: training samples per epoch over all processes; None = settings default.
        batch_size: batch size over all processes (each of N processes gets batch_size / N); None = default.
        workers: data-loading worker processes per training process; None = default.
        seed: base seed; data sampling depends only on (seed, epoch, sample index).
        device: ``"cuda"``, ``"cpu"`` or None (CUDA when available).
        resume: continue from the newest checkpoint of this settings' folder.
        train_backbone: also fine-tune the backbone (own learning rate; its BatchNorm layers train too).
        init_checkpoint: network weights to start from (our checkpoint, a folder, or a pytracking file).
        deterministic: ``torch.use_deterministic_algorithms(True)`` (bit-exact resume on CPU).
        amp: mixed precision on CUDA.
        cpu_bf16: bfloat16 autocast on the CPU; None = on where the CPU has bfloat16 units
            (``ltr.utils.cpu.has_bfloat16_units``: the same loss curve as float32 within the seed-to-seed spread, about
            twice the samples/s).
        channels_last: channels-last memory format; None = settings default.
        grad_clip_norm: clip the gradient norm; None = no clipping.
        threads: ``torch.set_num_threads`` per process; None = all cores shared among local processes.
        keep_checkpoints: keep only this many newest checkpoints; None keeps all.
        progress: show tqdm progress bars.
        dataset_roots: data-set key -> root folder given on the command line (``lasot``, ``got10k``, ...).
        backbone_weights: local ImageNet backbone state-dict file; None = ``$ATOM_EBM_BACKBONE_WEIGHTS``, else
            torchvision's download (settings with an ImageNet backbone only).
        feature_cache: folder of backbone-feature caches (settings that cache); None = ``<workspace>/feature_cache``.
        cache_pairs: training pairs whose backbone features are cached; 0 = no cache (every sample crops its frames
            and runs the backbone afresh: unlimited distinct pairs, slower steps); None = the settings' default.
    """

    module: str
    name: str
    workspace: Path
    epochs: int | None = None
    samples_per_epoch: int | None = None
    batch_size: int | None = None
    workers: int | None = None
    seed: int = 0
    device: str | None = None
    resume: bool = False
    train_backbone: bool = False
    init_checkpoint: str | None = None
    deterministic: bool = False
    amp: bool = True
    cpu_bf16: bool | None = None
    channels_last: bool | None = None
    grad_clip_norm: float | None = None
    threads: int | None = None
    keep_checkpoints: int | None = None
    progress: bool = True
    dataset_roots: dict[str, str] = field(default_factory=dict)
    backbone_weights: str | None = None
    feature_cache: str | None = None
    cache_pairs: int | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "samples_per_epoch", "batch_size", "threads", "keep_checkpoints"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        for name in ("workers", "cache_pairs"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.grad_clip_norm is not None and not self.grad_clip_norm > 0:
            raise ValueError(f"grad_clip_norm must be > 0, got {self.grad_clip_norm}")

    @property
    def settings_name(self) -> str:
        """``module/name``, e.g. ``"bbreg/atom_ebm"``."""
        return f"{self.module}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        """The options as JSON-able values (paths as strings)."""
        values = asdict(self)
        values["workspace"] = str(self.workspace)
        values["dataset_roots"] = dict(self.dataset_roots)
        return values
