"""The deaf gate on a real Postgres: streams end only when probes *committed* and went unheard
several times in a row, never when a probe could not be sent (the writers' pool exhausted),
and then spread over time, each stream with its own `retry:`."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from service.settings import Settings
from tests.support.server import RunningServer, Stream, open_stream, settings_for
from tests.support.waiting import until

HEARTBEAT = 0.5
DEAF_PROBES = 4
DRAIN = 1.5


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(
        database_url,
        listener_heartbeat_seconds=HEARTBEAT,
        listener_deaf_probes=DEAF_PROBES,
        deaf_drain_seconds=DRAIN,
        pool_max_size=2,
    )


@contextlib.asynccontextmanager
async def streams(server: RunningServer, count: int) -> AsyncIterator[list[Stream]]:
    """`count` open streams of different users, each past its `connected` event."""
    async with contextlib.AsyncExitStack() as stack:
        opened = [
            await stack.enter_async_context(
                open_stream(server.base_url, server.token(uuid.uuid4()))
            )
            for _ in range(count)
        ]
        for stream in opened:
            assert (await stream.next()).event == "connected"
        yield opened


def pool_of(server: RunningServer) -> asyncpg.Pool:
    pool: asyncpg.Pool = server.hub.source._store._pool  # type: ignore[attr-defined]
    return pool


async def test_probes_that_cannot_be_sent_never_end_streams(server: RunningServer) -> None:
    listener = server.listener
    await until(lambda: listener.receiving_problem() is None, "the listener hears")
    pool = pool_of(server)
    async with streams(server, 2) as open_:
        failed = listener.probes.failed
        # Every connection of the writers' pool held: each probe times out unsent, as when the
        # pool is exhausted by slow queries or a commit waits on the NOTIFY lock.
        held = [await pool.acquire() for _ in range(pool.get_max_size())]
        try:
            await until(
                lambda: listener.probes.failed >= failed + DEAF_PROBES + 1,
                "more probes than the deaf threshold failed to send",
                timeout=15,
            )
            assert not listener.deaf()
            assert server.hub.suspended is None
            assert not any(stream.ended.is_set() for stream in open_)
        finally:
            for connection in held:
                await pool.release(connection)
    await until(lambda: listener.receiving_warning() is None, "probes are sent again", timeout=10)


async def test_a_few_unheard_probes_in_a_row_are_tolerated(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = server.listener
    await until(lambda: listener.receiving_problem() is None, "the listener hears")
    real = listener._probe
    assert real is not None
    lost = 0

    async def loses_a_few(channel: str, payload: str) -> None:
        nonlocal lost
        if lost < DEAF_PROBES - 1:
            lost += 1  # committed, never heard (as through a broken pooler)
            return
        await real(channel, payload)

    async with streams(server, 2) as open_:
        heard = listener.probes.heard
        monkeypatch.setattr(listener, "_probe", loses_a_few)
        await until(
            lambda: lost == DEAF_PROBES - 1 and listener.probes.heard > heard,
            "a probe is heard after the lost ones",
            timeout=15,
        )
        assert server.hub.suspended is None
        assert not any(stream.ended.is_set() for stream in open_)


async def test_a_deaf_listener_drains_streams_over_time_each_with_its_own_retry(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = server.listener
    await until(lambda: listener.receiving_problem() is None, "the listener hears")

    async def lost(_channel: str, _payload: str) -> None:
        return None  # committed, never heard

    count = 6
    async with streams(server, count) as open_:
        ended: list[float] = []

        async def end_of(stream: Stream) -> None:
            await stream.ended.wait()
            ended.append(time.monotonic())

        watching = [asyncio.create_task(end_of(stream)) for stream in open_]
        monkeypatch.setattr(listener, "_probe", lost)
        await asyncio.wait_for(asyncio.gather(*watching), 15)
        retries: list[Any] = [stream.retry for stream in open_]
    monkeypatch.undo()
    # Spread over DEAF_DRAIN_SECONDS: the k-th of n at k/n of it (the last at 5/6 of 1.5 s).
    assert max(ended) - min(ended) >= 0.6 * DRAIN * (count - 1) / count
    retry_ms = server.settings.sse_retry_ms
    assert all(r is not None and retry_ms <= r <= 2 * retry_ms for r in retries), retries
    assert len(set(retries)) > 1, retries
    await until(lambda: server.hub.suspended is None, "streams are admitted again", timeout=10)
