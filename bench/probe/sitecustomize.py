"""Loaded by a server started with this directory on PYTHONPATH (`bench/allocations.py`).

With `ALLOCATION_PROBE` set it starts tracemalloc and, on each SIGUSR2, collects and dumps a
snapshot to `ALLOCATION_PROBE`-N.pickle. Without it, it does nothing.
"""

from __future__ import annotations

import gc
import os
import signal
import tracemalloc
from types import FrameType

_TARGET = os.environ.get("ALLOCATION_PROBE")
_taken = 0


def _dump(_signum: int, _frame: FrameType | None) -> None:
    global _taken
    _taken += 1
    gc.collect()
    tracemalloc.take_snapshot().dump(f"{_TARGET}-{_taken}.pickle")


if _TARGET:
    tracemalloc.start(1)
    signal.signal(signal.SIGUSR2, _dump)
