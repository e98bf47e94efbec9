"""The generic epoch loop: actor steps, optimizer and scheduler, AMP, checkpoints with exact resume, logs.

The trainer knows no method: the actor turns a batch into ``(loss, stats)``. One checkpoint is written per
epoch (``<checkpoint_dir>/<net_type>_ep%04d.pth.tar``, atomically, by rank 0) holding everything needed to
continue exactly: network, optimizer, scheduler, gradient scaler, RNG state, epoch and the log history.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch
import torch.distributed as dist
from torch import Tensor
from tqdm import tqdm

from ltr.actors.base import BaseActor, NonFiniteLossError
from ltr.admin.checkpoint import (
    checkpoint_path,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from ltr.trainers.distributed import DistributedContext, all_reduce, unwrap_model
from ltr.trainers.logs import EpochLogger
from ltr.trainers.rng import capture_rng_state, restore_rng_state

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainerConfig:
    """Settings of the epoch loop.

    Attributes:
        epochs: last epoch to train (epochs are numbered from 1).
        checkpoint_dir: folder of the per-epoch checkpoints.
        log_dir: folder of the CSV log and TensorBoard files; None disables logs.
        net_type: checkpoint file prefix (``ATOMnet_ep0001.pth.tar``).
        amp: mixed precision on CUDA (float16 autocast + GradScaler).
        cpu_bf16: bfloat16 autocast on the CPU (AVX-512 BF16 / AMX units; no scaler: bfloat16 keeps float32's range).
        grad_clip_norm: clip the global gradient norm to this value; None disables clipping.
        channels_last: move the network and image batches to channels-last memory format.
        val_interval: validate every this many epochs (and after the last epoch) when a validation
            loader is given.
        keep_checkpoints: keep only this many newest checkpoints; None keeps all.
        show_progress: tqdm progress bars (rank 0 only).
        metadata: JSON-able values stored in every checkpoint, e.g. ``settings``, ``options``,
            ``net_constructor`` (``{"name": ..., "kwargs": {...}}``), ``objective``.
    """

    epochs: int
    checkpoint_dir: Path
    log_dir: Path | None = None
    net_type: str = "ATOMnet"
    amp: bool = True
    cpu_bf16: bool = False
    grad_clip_norm: float | None = None
    channels_last: bool = False
    val_interval: int = 1
    keep_checkpoints: int | None = None
    show_progress: bool = True
    metadata: Mapping[str, Any] = field(default_factory=dict)


def move_batch(batch: Mapping[str, Any], device: torch.device, channels_last: bool = False) -> dict[str, Any]:
    """Tensors of ``batch`` on ``device`` (4-D ones in channels-last format if asked); other values unchanged."""
    moved: dict[str, Any] = {}
    for key, value in batch.items():
        if isinstance(value, Tensor):
            value = value.to(device, non_blocking=True)
            if channels_last and value.dim() == 4:
                value = value.contiguous(memory_format=torch.channels_last)
        moved[key] = value
    return moved


def _batch_size(batch: Mapping[str, Any]) -> int:
    for value in batch.values():
        if isinstance(value, Tensor) and value.dim() > 0:
            return int(value.shape[0])
    raise ValueError(f"batch has no tensor to take the batch size from (keys: {', '.join(batch)})")


def _set_epoch(loader: Iterable, epoch: int) -> None:
    for holder in (getattr(loader, "dataset", None), getattr(loader, "sampler", None),
                   getattr(loader, "batch_sampler", None)):
        if holder is not None and hasattr(holder, "set_epoch"):
            holder.set_epoch(epoch)


class Trainer:
    """Trains ``actor.net`` on ``loader`` for ``config.epochs`` epochs.

    Args:
        actor: turns a batch into ``(loss, stats)``; its ``net`` may be DDP-wrapped and must already be on
            ``context.device``.
        loader: training batches (dicts of tensors); its dataset/sampler ``set_epoch(epoch)`` is called
            before each epoch so that sampling depends only on (seed, epoch, index).
        optimizer: optimizer over the trainable parameters (param groups may carry a ``"name"``).
        lr_scheduler: stepped once per epoch, after training.
        config: loop settings.
        context: distributed context (rank 0 writes checkpoints and logs).
        val_loader: optional validation batches, evaluated without gradients in eval mode.
    """

    def __init__(
        self,
        actor: BaseActor,
        loader: Iterable,
        optimizer: torch.optim.Optimizer,
        lr_scheduler: torch.optim.lr_scheduler.LRScheduler,
        config: TrainerConfig,
        context: DistributedContext,
        val_loader: Iterable | None = None,
    ):
        if config.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {config.epochs}")
        if len(loader) == 0:  # type: ignore[arg-type]
            raise ValueError("the training loader yields no batch (fewer samples per epoch than the batch size?)")
        self.actor = actor
        self.loader = loader
        self.val_loader = val_loader
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self.config = config
        self.context = context
        self.device = context.device
        on_cuda = self.device.type == "cuda"
        self.amp_enabled = (config.amp and on_cuda) or (config.cpu_bf16 and self.device.type == "cpu")
        self.amp_dtype = torch.float16 if on_cuda else torch.bfloat16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_enabled and on_cuda)
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self._parameters = [p for group in optimizer.param_groups for p in group["params"]]
        self._logger = EpochLogger(config.log_dir) if (config.log_dir is not None and context.is_main) else None

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint holds (tensors and plain containers only)."""
        state: dict[str, Any] = dict(self.config.metadata)
        net = unwrap_model(self.actor.net)
        if hasattr(net, "input_spec"):  # the crops the network trains on (``ltr.models.input_spec``)
            state["input_spec"] = net.input_spec.to_dict()
        state.update(
            net=net.state_dict(),
            net_type=self.config.net_type,
            epoch=self.epoch,
            optimizer=self.optimizer.state_dict(),
            lr_scheduler=self.lr_scheduler.state_dict(),
            grad_scaler=self.scaler.state_dict(),
            rng=capture_rng_state(),
            history=[dict(row) for row in self.history],
        )
        return state

    def save_checkpoint(self) -> Path:
        """Write this epoch's checkpoint (rank 0) and prune old ones if ``keep_checkpoints`` is set."""
        path = checkpoint_path(self.config.checkpoint_dir, self.config.net_type, self.epoch)
        save_checkpoint(path, self.state_dict())
        if self.config.keep_checkpoints is not None:
            existing = list_checkpoints(self.config.checkpoint_dir, self.config.net_type)
            for _, old in existing[: max(0, len(existing) - self.config.keep_checkpoints)]:
                old.unlink()
        logger.info("saved checkpoint %s", path)
        return path

    def load_checkpoint(self, path: Path) -> None:
        """Restore the training state from ``path`` (written by ``save_checkpoint``)."""
        state = load_checkpoint(path)
        expected = self.config.metadata.get("settings")
        if expected is not None and state.get("settings") not in (None, expected):
            raise ValueError(f"checkpoint {path} was written by settings '{state.get('settings')}', not '{expected}'")
        missing = [key for key in ("net", "epoch", "optimizer", "lr_scheduler") if key not in state]
        if missing:
            raise ValueError(f"checkpoint {path} cannot be resumed: it lacks {', '.join(missing)}")
        unwrap_model(self.actor.net).load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_scheduler.load_state_dict(state["lr_scheduler"])
        if state.get("grad_scaler"):
            self.scaler.load_state_dict(state["grad_scaler"])
        if "rng" in state and not self.context.distributed:
            restore_rng_state(state["rng"])
        self.epoch = int(state["epoch"])
        self.history = [dict(row) for row in state.get("history", [])]
        logger.info("resumed from %s (epoch %d)", path, self.epoch)

    def resume_latest(self) -> bool:
        """Restore the newest checkpoint of ``checkpoint_dir``; False when there is none."""
        found = list_checkpoints(self.config.checkpoint_dir, self.config.net_type)
        epoch = found[-1][0] if found else 0
        extremes = all_reduce(torch.tensor([epoch, -epoch], dtype=torch.int64), self.context, dist.ReduceOp.MAX)
        if int(extremes[0]) != -int(extremes[1]):
            raise ValueError(f"processes see different newest checkpoints in {self.config.checkpoint_dir} (epochs "
                             f"{-int(extremes[1])} to {int(extremes[0])}); multi-node runs need a shared --workspace")
        if not found:
            return False
        self.load_checkpoint(found[-1][1])
        return True

    # ------------------------------------------------------------------ loop
    def train(self) -> list[dict[str, Any]]:
        """Train from ``self.epoch + 1`` to ``config.epochs``; returns the per-epoch log rows.

        Raises:
            NonFiniteLossError: a training loss was NaN/inf (no checkpoint is written for that epoch).
        """
        if self.epoch >= self.config.epochs:
            logger.info("nothing to do: already at epoch %d of %d", self.epoch, self.config.epochs)
        try:
            while self.epoch < self.config.epochs:
                self.epoch += 1
                row: dict[str, Any] = {"epoch": self.epoch}
                row.update({f"lr/{group.get('name', index)}": group["lr"]
                            for index, group in enumerate(self.optimizer.param_groups)})
                train_stats, samples, seconds = self._run_epoch(self.loader, training=True)
                self.lr_scheduler.step()
                row.update({f"train/{key}": value for key, value in train_stats.items()})
                if self.val_loader is not None and (
                    self.epoch % self.config.val_interval == 0 or self.epoch == self.config.epochs
                ):
                    val_stats, _, _ = self._run_epoch(self.val_loader, training=False)
                    row.update({f"val/{key}": value for key, value in val_stats.items()})
                row.update(samples_per_s=samples / seconds, seconds=seconds)
                self.history.append(row)
                if self.context.is_main:
                    self.save_checkpoint()
                    if self._logger is not None:
                        self._logger.write(self.history)
                logger.info("epoch %d: %s", self.epoch, ", ".join(
                    f"{key} {value:.4g}" for key, value in row.items() if key != "epoch"))
        finally:
            if self._logger is not None:
                self._logger.close()
        return self.history

    def _run_epoch(self, loader: Iterable, *, training: bool) -> tuple[dict[str, float], int, float]:
        """One pass over ``loader``; returns (mean stats over all processes, samples, seconds).

        Training data are drawn for the current epoch; validation always uses epoch 0, so every
        validation pass sees the same held-out samples and its losses are comparable across epochs.
        """
        _set_epoch(loader, self.epoch if training else 0)
        self.actor.train(training)
        keys: list[str] | None = None
        sums = torch.zeros(0, dtype=torch.float64)
        count = 0
        start = time.perf_counter()
        phase = "train" if training else "val"
        progress = tqdm(loader, total=len(loader), desc=f"epoch {self.epoch} {phase}",  # type: ignore[arg-type]
                        disable=not (self.config.show_progress and self.context.is_main),
                        dynamic_ncols=True, leave=False)
        for iteration, batch in enumerate(progress, start=1):
            batch = move_batch(batch, self.device, self.config.channels_last)
            try:
                with torch.set_grad_enabled(training), torch.autocast(self.device.type, dtype=self.amp_dtype,
                                                                      enabled=self.amp_enabled):
                    loss, stats = self.actor(batch)
            except NonFiniteLossError as error:
                raise NonFiniteLossError(f"{error} at epoch {self.epoch}, {phase} iteration {iteration}; the last "
                                         f"good checkpoint is kept in {self.config.checkpoint_dir}") from error
            if keys is None:
                keys = list(stats)
                sums = torch.zeros(len(keys), dtype=torch.float64)
            values = torch.stack([stats[key].detach().double().reshape(()) for key in keys]).cpu()
            if training:
                if not math.isfinite(float(loss.detach())):
                    raise NonFiniteLossError(
                        f"non-finite training loss ({float(loss.detach())}) at epoch {self.epoch}, train iteration "
                        f"{iteration}; the last good checkpoint is kept in {self.config.checkpoint_dir}")
                self._step(loss)
            batch_size = _batch_size(batch)
            sums += values * batch_size
            count += batch_size
            if iteration == 1 or iteration % 10 == 0:
                progress.set_postfix({keys[-1]: f"{sums[-1].item() / count:.4f}"})
        seconds = time.perf_counter() - start
        totals = all_reduce(torch.cat([sums, torch.tensor([float(count)], dtype=torch.float64)]), self.context)
        total_count = int(totals[-1].item())
        means = {key: float(totals[index] / total_count) for index, key in enumerate(keys or [])}
        return means, total_count, seconds

    def _step(self, loss: Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip_norm is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self._parameters, self.config.grad_clip_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
