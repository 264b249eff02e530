"""No synchronised reconnect waves: streams opened together do not reach their maximum age
together, and a SIGTERM first turns `/readyz` to 503, then drains the streams spread over
SHUTDOWN_DRAIN_SECONDS, each with its own `retry:`, refusing new ones meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import httpx

from tests.support.server import Stream, open_stream, running_server, settings_for
from tests.support.waiting import until


async def test_streams_opened_together_reach_their_maximum_age_apart(database_url: str) -> None:
    max_age, count = 1.0, 10
    settings = settings_for(database_url, stream_max_age_seconds=max_age, stream_max_age_jitter=0.5)
    ages: list[float] = []

    async def one(base_url: str, token: str) -> None:
        async with open_stream(base_url, token) as stream:
            assert (await stream.next()).event == "connected"
            opened = time.monotonic()
            await asyncio.wait_for(stream.ended.wait(), 5)
            ages.append(time.monotonic() - opened)

    async with running_server(settings) as server:
        await asyncio.gather(
            *(one(server.base_url, server.token(uuid.uuid4())) for _ in range(count))
        )
    # Up to the wake-up wheel's 50 ms late (service/live/wheel.py), plus a loaded machine's delay.
    assert all(max_age * 0.5 - 0.05 <= age <= max_age + 0.15 for age in ages), ages
    # Ten uniform draws over half a second: almost surely more than 0.15 s apart.
    assert max(ages) - min(ages) >= 0.15, ages


async def test_sigterm_is_not_ready_first_then_drains_streams_over_time(
    database_url: str,
) -> None:
    unready, drain, count = 0.6, 1.5, 6
    settings = settings_for(
        database_url, shutdown_unready_seconds=unready, shutdown_drain_seconds=drain
    )
    async with running_server(settings) as server, contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=server.base_url))
        await until(
            lambda: server.listener.receiving_problem() is None, "the listener hears", timeout=5
        )
        streams: list[Stream] = []
        for _ in range(count):
            stream = await stack.enter_async_context(
                open_stream(server.base_url, server.token(uuid.uuid4()))
            )
            assert (await stream.next()).event == "connected"
            streams.append(stream)
        ended: list[float] = []

        async def end_of(stream: Stream) -> None:
            await stream.ended.wait()
            ended.append(time.monotonic())

        watching = [asyncio.create_task(end_of(stream)) for stream in streams]
        signalled = time.monotonic()
        # What uvicorn's SIGTERM handler does (calling it would re-raise the signal at the end).
        server.server.should_exit = True

        async def not_ready() -> httpx.Response | None:
            response = await client.get("/readyz")
            return response if response.status_code == 503 else None

        response = await until(not_ready, "/readyz turns 503", timeout=5)
        assert response is not None
        assert "shutting down: streams are being drained" in response.json()["problems"]
        assert not any(stream.ended.is_set() for stream in streams)  # still served

        # Once the drain started, a new stream is refused with `unavailable` + `retry:`.
        await until(lambda: ended, "the drain starts", timeout=5)
        async with open_stream(server.base_url, server.token(uuid.uuid4())) as late:
            assert late.response.status_code == 200
            refused = await late.next()
        await asyncio.wait_for(asyncio.gather(*watching), 10)
        retries = [stream.retry for stream in streams]
    assert refused.event == "unavailable"
    assert refused.retry == settings.sse_retry_ms
    assert min(ended) - signalled >= unready * 0.9
    assert max(ended) - min(ended) >= 0.6 * drain * (count - 1) / count
    retry_ms = settings.sse_retry_ms
    assert all(r is not None and retry_ms <= r <= 2 * retry_ms for r in retries), retries
    assert len(set(retries)) > 1, retries
