"""One timer for every open stream: a wheel of wake-up slots, turned by one task.

An idle stream used to wait on its inbox inside `asyncio.timeout` (for its keepalive and its
deadline): a Timeout, a timer handle and the loop's timer per stream, ~0.9 KiB of the ~16 an
idle stream cost (bench/RESULTS.md). Here a stream asks to be woken at a time; `run` wakes it
at that time, never early and at most `resolution` seconds late, whatever the number of
streams. A slot holds only a reference: a stream that ended is dropped when its slot is due.

The resolution is fine (50 ms in the app) on purpose: a slot's sleepers all wake in one turn of
the event loop, and 0.25 s slots gathered the keepalives of ~800 of 10,000 streams into one
burst, which the 60 s benchmark saw as a p99 of 19-21 ms instead of 5-6 ms (bench/RESULTS.md).
It is not finer because a busy wheel turns at every slot: at 10 ms an idle process with 12,500
streams spent 4.6 % of a core, at 50 ms 2.5 % (issue 25; eight processes share two cores there).
A turn visits only the slots that fell due since the last one, so a fine wheel costs nothing
while nothing is due.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable
from typing import NoReturn, Protocol


class Sleeper(Protocol):
    """What the wheel wakes (a hub `Subscription`)."""

    def wake(self) -> None:
        """The time asked for has come."""
        ...


class Wheel:
    """Wake-ups at `resolution` seconds' granularity on the monotonic clock."""

    def __init__(self, resolution: float, *, now: float | None = None) -> None:
        if resolution <= 0:
            raise ValueError("the wheel's resolution must be positive")
        self.resolution = resolution
        self._slots: dict[int, list[Sleeper]] = {}
        start = time.monotonic() if now is None else now
        self._turned = math.floor(start / resolution)  # the slots up to here are done

    def wake_at(self, sleeper: Sleeper, when: float) -> None:
        """Wake `sleeper` once, at `when` (`time.monotonic()`) or within `resolution` after."""
        slot = max(math.ceil(when / self.resolution), self._turned + 1)
        sleepers = self._slots.get(slot)
        if sleepers is None:
            self._slots[slot] = [sleeper]
        else:
            sleepers.append(sleeper)

    def turn(self, now: float) -> int:
        """Wake everything due by `now`; return how many were woken."""
        current = math.floor(now / self.resolution)
        woken = 0
        if current - self._turned > len(self._slots):  # a long pause: visit the slots held
            due: Iterable[int] = sorted(slot for slot in self._slots if slot <= current)
        else:
            due = range(self._turned + 1, current + 1)
        self._turned = max(self._turned, current)
        for slot in due:
            for sleeper in self._slots.pop(slot, ()):
                sleeper.wake()
                woken += 1
        return woken

    def pending(self) -> int:
        """Wake-ups not yet due."""
        return sum(len(sleepers) for sleepers in self._slots.values())

    async def run(self) -> NoReturn:
        """Turn the wheel at every slot boundary, forever."""
        while True:
            now = time.monotonic()
            self.turn(now)
            next_slot = math.floor(now / self.resolution) + 1
            await asyncio.sleep(max(0.0, next_slot * self.resolution - time.monotonic()))
