"""`drain` and `Shutdown` without a server: streams ended spread over the period, in random
order, each with a spread `retry:`; streams that ended by themselves are skipped; shutdown stops
new work at once, is not ready before it drains, and flushes after the drain."""

from __future__ import annotations

import asyncio
import time
import uuid

from service.live.drain import drain
from service.ops.shutdown import Shutdown
from service.settings import Settings
from tests.support.hubs import enter, hub_of


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


async def test_shutdown_stops_new_work_at_once_drains_then_flushes() -> None:
    hub = hub_of()
    streams = [await enter(hub, uuid.uuid4()) for _ in range(4)]
    settings = Settings(shutdown_unready_seconds=0.2, shutdown_drain_seconds=0.3)
    shutdown = Shutdown(hub, settings)
    happened: list[tuple[str, float]] = []
    shutdown.on_begin(lambda: happened.append(("begin", time.monotonic())))

    async def flush() -> None:
        ended = all(s.closed_reason == "shutdown" for s in streams)
        happened.append((f"flush after all ended: {ended}", time.monotonic()))

    shutdown.after_drain(flush)
    started = time.monotonic()
    running = asyncio.create_task(shutdown.run())
    await asyncio.sleep(0)
    assert shutdown.started  # /readyz answers 503 from now on
    assert hub.suspended is None  # still admitting during the not-ready phase
    await running
    assert [what for what, _at in happened] == ["begin", "flush after all ended: True"]
    assert happened[0][1] - started < 0.05  # push stops claiming at SIGTERM, not at the end
    assert hub.suspended == "shutdown"
    assert all(s.retry_ms is not None for s in streams)
    assert shutdown.elapsed() >= 0.2 + 0.3 * 3 / 4 - 0.02
