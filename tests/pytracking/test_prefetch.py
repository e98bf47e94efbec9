"""Read-ahead iterator: same items in order, errors at their position, reads ahead, stops when closed."""
from __future__ import annotations

import threading
import time

import pytest

from pytracking.utils.prefetch import prefetched


def test_yields_every_item_in_order_and_reads_ahead_in_another_thread():
    readers = []

    def items():
        for index in range(50):
            readers.append(threading.current_thread().name)
            yield index

    stream = prefetched(items(), depth=3)
    assert next(stream) == 0
    deadline = time.monotonic() + 5.0
    while len(readers) < 4 and time.monotonic() < deadline:  # the reader fills the buffer while we wait
        time.sleep(0.01)
    assert len(readers) == 4  # item 0 taken, items 1-3 buffered: exactly ``depth`` ahead
    assert [0, *stream] == list(range(50))
    assert set(readers) == {"prefetch"}


def test_an_error_is_raised_where_it_occurred():
    def items():
        yield 1
        yield 2
        raise OSError("frame 3 unreadable")

    stream = prefetched(items())
    assert next(stream) == 1 and next(stream) == 2
    with pytest.raises(OSError, match="frame 3"):
        next(stream)


def test_closing_stops_the_reader():
    produced = []

    def endless():
        index = 0
        while True:
            produced.append(index)
            yield index
            index += 1

    stream = prefetched(endless(), depth=2)
    assert next(stream) == 0
    stream.close()
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 4
    assert not any(t.name == "prefetch" for t in threading.enumerate())


def test_bad_depth():
    with pytest.raises(ValueError, match="depth"):
        next(prefetched([1], depth=0))
