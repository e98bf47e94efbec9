"""torchrun / DistributedDataParallel plumbing: the same code path for 1 process, N GPUs or N CPU processes.

Launch several processes with the standard PyTorch launcher, e.g.
``torchrun --nproc_per_node 4 -m ltr.run_training bbreg atom_ebm`` (multi-node: add ``--nnodes``,
``--node_rank`` and ``--rdzv-endpoint``). torchrun sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; without
them the run is a single process and no process group is created. CUDA uses NCCL, CPU uses gloo.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in the job.

    Attributes:
        rank: global rank (0 writes checkpoints and logs).
        local_rank: rank on this machine (selects the GPU).
        world_size: number of processes; 1 means no process group.
        device: the ``torch.device`` this process trains on.
    """

    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """True on the process that writes checkpoints, logs and progress bars."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when a process group is in use."""
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got '{value}'") from None


def init_distributed(device: str | None = None) -> DistributedContext:
    """Create the process group when launched by torchrun and pick this process's device.

    Args:
        device: ``"cuda"``, ``"cpu"`` or None (CUDA when available). Under torchrun with CUDA each
            process takes GPU ``LOCAL_RANK``.

    Raises:
        ValueError: CUDA requested but not available, or fewer GPUs than local processes.
    """
    device_type = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device_type.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device_type} requested but CUDA is not available")
    if device_type not in ("cuda", "cpu") and not device_type.startswith("cuda:"):
        raise ValueError(f"unsupported device '{device_type}'; use cuda or cpu")
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device_type == "cpu":
        torch_device = torch.device("cpu")
    elif world_size > 1:
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} GPUs are visible")
        torch_device = torch.device("cuda", local_rank)
    else:
        torch_device = torch.device(device_type)
    if torch_device.type == "cuda":
        torch.cuda.set_device(torch_device)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if torch_device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
        logger.info("process group ready: rank %d/%d, backend %s, device %s", rank, world_size, backend, torch_device)
    return DistributedContext(rank=rank, local_rank=local_rank, world_size=world_size, device=torch_device)


def destroy_distributed() -> None:
    """Tear the process group down (no-op without one)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(net: nn.Module, context: DistributedContext) -> nn.Module:
    """Wrap ``net`` (already on ``context.device``) in ``DistributedDataParallel`` when distributed."""
    if not context.distributed:
        return net
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(net, device_ids=device_ids)


def unwrap_model(net: nn.Module) -> nn.Module:
    """The underlying module of a ``DistributedDataParallel`` wrapper (or ``net`` itself)."""
    return net.module if isinstance(net, DistributedDataParallel) else net


def all_reduce(tensor: torch.Tensor, context: DistributedContext, op: dist.ReduceOp = dist.ReduceOp.SUM) -> torch.Tensor:
    """Reduce ``tensor`` element-wise over all processes with ``op`` (returns it unchanged for a single process)."""
    if not context.distributed:
        return tensor
    reduced = tensor.to(context.device, copy=True)
    dist.all_reduce(reduced, op=op)
    return reduced.to(tensor.device)


def barrier(context: DistributedContext) -> None:
    """Wait for all processes (no-op for a single process)."""
    if context.distributed:
        dist.barrier()
