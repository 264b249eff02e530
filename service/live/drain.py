"""Ending many streams without a reconnect wave.

Ending every open stream at once (a deaf listener, a SIGTERM) sends all their clients back in
the same second, after the same `retry:`, into replicas and a database that may already be
struggling. `drain` ends them spread over a period instead. Knows nothing of HTTP or Postgres.

Guarantees:
- The streams open when `drain` starts are ended in random order, the k-th of n (from 0) at
  `seconds * k / n` after the start: the first at once, the last before `seconds` is up (all at
  once when `seconds` is 0). A stream that ended by itself meanwhile is skipped.
- Each is ended with a `retry:` drawn uniformly from [retry_ms, 2 * retry_ms]
  (`Subscription.close(reason, retry_ms=...)`, written before the stream ends), so even the
  clients ended in one turn of the loop do not come back in one.
- Streams opened after the start are not its concern: the caller refuses them first
  (`Hub.suspend`). `drain` returns once every stream it was given was asked to end.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable
from typing import Protocol

RESOLUTION = 0.01  # seconds: ends due within this of each other go out in one turn


class Closable(Protocol):
    """What `drain` ends (a hub `Subscription`)."""

    @property
    def closed_reason(self) -> str | None: ...

    def close(self, reason: str, *, retry_ms: int | None = None) -> None: ...


def spread_retry(retry_ms: int) -> int:
    """A `retry:` between `retry_ms` and twice it."""
    return retry_ms + random.randint(0, retry_ms)


async def drain(streams: Iterable[Closable], reason: str, *, seconds: float, retry_ms: int) -> int:
    """End `streams` spread over `seconds` (see the module's guarantees); return how many
    were ended by it."""
    pending = [stream for stream in streams if stream.closed_reason is None]
    random.shuffle(pending)
    count, ended = len(pending), 0
    start = time.monotonic()
    for index, stream in enumerate(pending):
        due = start + seconds * index / count
        wait = due - time.monotonic()
        if wait > RESOLUTION:
            await asyncio.sleep(wait)
        if stream.closed_reason is None:
            stream.close(reason, retry_ms=spread_retry(retry_ms))
            ended += 1
    return ended
