"""How many CPU cores this process may use (for sizing torch / OpenCV thread pools)."""
from __future__ import annotations

import os


def available_cores() -> int:
    """Cores in this process's affinity mask where the OS has one (containers, job schedulers), else all cores."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
