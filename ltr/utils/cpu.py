"""What this CPU offers: the cores this process may use (for sizing torch / OpenCV thread pools), bfloat16 units."""
from __future__ import annotations

import os


def available_cores() -> int:
    """Cores in this process's affinity mask where the OS has one (containers, job schedulers), else all cores."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def has_bfloat16_units() -> bool:
    """Whether the CPU computes bfloat16 products natively (AVX512-BF16 or AMX), where bfloat16 autocast pays."""
    import torch

    checks = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    return any(check is not None and check() for check in checks)
