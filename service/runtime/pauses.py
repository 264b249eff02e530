"""Short garbage-collection pauses however many streams are open.

CPython's full (generation 2) collection walks every object it tracks and stops the event loop
while it does: with 10,000 idle streams (about 800,000 tracked objects) each one took 0.1-0.9 s
(bench/RESULTS.md), and every stream waited. Almost all of those objects are idle streams that
live for minutes and leave no cyclic garbage when they end (measured: opening and closing 3,000
streams gave the collector 0 objects to collect), so walking them again and again is waste.

`FreezePolicy.run` therefore, every `interval` seconds, collects what is not frozen yet (only
what was created since the last tick, so the pause stays short) and moves every survivor into
the permanent generation (`gc.freeze()`), which later collections skip. At 1,000 notifications/s
to 10,000 streams a tick took 13-21 ms of CPU every 1 s, and 1.2-3.4 ms every 0.25 s (less in
total, too: survivors are walked fewer times by the automatic young collections before being
frozen). While streams connect, every one of them survives until the tick: at ~1,700 connects/s
the longest tick was 13 ms at 0.25 s and 6 ms at 0.1 s (issue 25); hence the default of 0.1 s.
Start-up's own objects are collected and frozen once before the first connection
(`freeze_start_up`), not by the first tick.

Guarantees and limits:
- Garbage without reference cycles is freed by reference counting, frozen or not: a stream's
  memory is returned when it ends.
- Cyclic garbage created since the last tick is collected before the freeze, never frozen.
- A cycle that was frozen while alive and later became garbage is not collected until the next
  full collection: every `full_interval` seconds (0: never) the policy unfreezes everything and
  runs one, a long pause, counted like the others. `vividly_gc_frozen_objects` shows whether
  frozen objects grow without streams growing; the soak in bench/ checks that they do not.
- Every collection's pause, whoever started it, is observed in `vividly_gc_pause_seconds`
  (`install_pause_histogram`, once per process); the longest so far is
  `vividly_gc_pause_max_seconds`, and the most CPU one collection took
  `vividly_gc_pause_max_cpu_seconds` (a pause far longer than that was a wait for a core).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

PAUSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)

PAUSES = Histogram(
    "vividly_gc_pause_seconds",
    "Garbage collector pauses (the event loop stands still), by generation.",
    labelnames=["generation"],
    buckets=PAUSE_BUCKETS,
    registry=None,
)

_started: list[tuple[float, float]] = []  # a collection in progress: wall and CPU clocks
_slowest = [0.0]  # the longest pause since start-up finished
_busiest = [0.0]  # the most CPU one collection took since then


def _observe(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started.append((time.perf_counter(), time.thread_time()))
    elif _started:
        wall, cpu = _started.pop()
        pause = time.perf_counter() - wall
        PAUSES.labels(str(info["generation"])).observe(pause)
        _slowest[0] = max(_slowest[0], pause)
        _busiest[0] = max(_busiest[0], time.thread_time() - cpu)


def install_pause_histogram() -> None:
    """Time every collection of this process into `PAUSES` (idempotent)."""
    if _observe not in gc.callbacks:
        gc.callbacks.append(_observe)


class GcCollector(Collector):
    """`vividly_gc_pause_seconds`, `vividly_gc_pause_max_seconds` and
    `vividly_gc_frozen_objects` for a registry."""

    def collect(self) -> Iterator[Metric]:
        yield from PAUSES.collect()
        yield GaugeMetricFamily(
            "vividly_gc_pause_max_seconds",
            "The longest garbage collector pause since start-up finished (the histogram: all).",
            value=_slowest[0],
        )
        yield GaugeMetricFamily(
            "vividly_gc_pause_max_cpu_seconds",
            "The most CPU one collection took since start-up finished: far below the longest "
            "pause, the process was waiting for a core, not for the collector.",
            value=_busiest[0],
        )
        yield GaugeMetricFamily(
            "vividly_gc_frozen_objects",
            "Objects in the permanent generation (skipped by collections).",
            value=gc.get_freeze_count(),
        )


def freeze_start_up() -> None:
    """Collect once and freeze what start-up made (modules, settings, pools), before the first
    connection is accepted: the first tick would otherwise walk all of it (a 140 ms pause,
    bench/RESULTS.md) just as the first streams connect. Not counted as the longest pause:
    nothing is being served yet."""
    gc.collect()
    gc.freeze()
    _slowest[0] = _busiest[0] = 0.0


class FreezePolicy:
    """Keeps the collector's work proportional to what was created lately, not to what lives."""

    def __init__(self, *, interval: float, full_interval: float = 0) -> None:
        self.interval = interval
        self.full_interval = full_interval
        self.full_collections = 0

    def tick(self) -> None:
        """Collect what is not frozen, then freeze the survivors."""
        gc.collect()
        gc.freeze()

    def full_collection(self) -> int:
        """Unfreeze, collect everything, freeze again; the number of objects collected."""
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        self.full_collections += 1
        return collected

    async def run(self) -> None:
        """Tick every `interval` seconds (and a full collection every `full_interval`)."""
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(self.interval)
            if self.full_interval and time.monotonic() - last_full >= self.full_interval:
                last_full = time.monotonic()
                collected = self.full_collection()
                logger.info("full garbage collection: %d objects were frozen garbage", collected)
            else:
                self.tick()
