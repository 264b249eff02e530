"""`drain` without a server: streams ended spread over the period, in random order, each with a
spread `retry:`; streams that ended by themselves are skipped."""

from __future__ import annotations

import time

from service.drain import drain


class Fake:
    """A stream as `drain` sees it."""

    def __init__(self) -> None:
        self.closed_reason: str | None = None
        self.retry_ms: int | None = None
        self.closed_at: float | None = None

    def close(self, reason: str, *, retry_ms: int | None = None) -> None:
        self.closed_reason, self.retry_ms, self.closed_at = reason, retry_ms, time.monotonic()


async def test_streams_end_spread_over_the_period_each_with_its_own_retry() -> None:
    streams = [Fake() for _ in range(20)]
    started = time.monotonic()
    ended = await drain(streams, "shutdown", seconds=0.5, retry_ms=1000)
    took = time.monotonic() - started
    times = sorted(s.closed_at - started for s in streams if s.closed_at is not None)
    assert ended == 20
    assert times[0] < 0.05  # the first at once
    assert 0.4 <= times[-1] < 0.5 + 0.05  # the last at 19/20 of the period
    assert took < 0.6
    # Evenly: each half of the period ends about half of them.
    assert 8 <= sum(t < 0.25 for t in times) <= 12
    assert all(s.closed_reason == "shutdown" for s in streams)
    retries = [s.retry_ms for s in streams]
    assert all(r is not None and 1000 <= r <= 2000 for r in retries)
    assert len(set(retries)) > 5


async def test_a_stream_that_ended_meanwhile_is_skipped_and_zero_seconds_is_at_once() -> None:
    gone, open_ = Fake(), Fake()
    gone.closed_reason = "disconnected"
    assert await drain([gone, open_], "unavailable", seconds=0, retry_ms=500) == 1
    assert gone.retry_ms is None
    assert open_.closed_reason == "unavailable"
