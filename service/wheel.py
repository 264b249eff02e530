"""One timer for every open stream: a wheel of wake-up slots, turned by one task.

An idle stream used to wait on its inbox inside `asyncio.timeout` (for its keepalive and its
deadline): a Timeout, a timer handle and the loop's timer per stream, ~0.9 KiB of the ~16 an
idle stream cost (bench/RESULTS.md). Here a stream asks to be woken at a time; `run` wakes it
at that time, never early and at most `resolution` seconds late, whatever the number of
streams. A slot holds only a reference: a stream that ended is dropped when its slot is due.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import NoReturn, Protocol


class Sleeper(Protocol):
    """What the wheel wakes (a hub `Subscription`)."""

    def wake(self) -> None:
        """The time asked for has come."""
        ...


class Wheel:
    """Wake-ups at `resolution` seconds' granularity on the monotonic clock."""

    def __init__(self, resolution: float) -> None:
        if resolution <= 0:
            raise ValueError("the wheel's resolution must be positive")
        self.resolution = resolution
        self._slots: dict[int, list[Sleeper]] = {}

    def wake_at(self, sleeper: Sleeper, when: float) -> None:
        """Wake `sleeper` once, at `when` (`time.monotonic()`) or within `resolution` after."""
        slot = math.ceil(when / self.resolution)
        sleepers = self._slots.get(slot)
        if sleepers is None:
            self._slots[slot] = [sleeper]
        else:
            sleepers.append(sleeper)

    def turn(self, now: float) -> int:
        """Wake everything due by `now`; return how many were woken."""
        current = math.floor(now / self.resolution)
        due = sorted(slot for slot in self._slots if slot <= current)
        woken = 0
        for slot in due:
            for sleeper in self._slots.pop(slot):
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
