"""Keep a library's log messages below ERROR off the terminal for the duration of a block."""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator


@contextlib.contextmanager
def quiet_loggers(*names: str) -> Iterator[None]:
    """Raise the loggers ``names`` to ERROR inside the block, then restore their levels.

    For messages a dependency prints that users cannot act on (torch's "No CUDA runtime is found" when inductor
    compiles on a CPU-only machine, torchao's deprecation notice at import).
    """
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
