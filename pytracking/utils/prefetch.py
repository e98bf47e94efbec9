"""Read ahead: produce the next items of an iterator (decoded video frames) in a background thread.

JPEG / video decoding releases the GIL, so the next frame is decoded while the current one is tracked.
"""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, NamedTuple, TypeVar

T = TypeVar("T")


class _End(NamedTuple):
    """Marks the end of the items; ``error`` is what the iterator raised, if anything."""

    error: BaseException | None


def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield the items of ``items`` in order while a daemon thread reads up to ``depth`` of them ahead.

    An exception raised by ``items`` is re-raised here, at the position where it occurred. Closing the generator
    (or breaking out of a ``for`` loop over it and dropping it) stops the reader after its current item.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # re-raised in the consumer
            put(_End(error))
            return
        put(_End(None))

    reader = threading.Thread(target=read, name="prefetch", daemon=True)
    reader.start()
    try:
        while True:
            item = buffer.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        reader.join()
