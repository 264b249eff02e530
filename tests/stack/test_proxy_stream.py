"""Through the real proxy to the real replicas: a question asked comes back live on the stream,
the stream's first event leaves at once (nginx buffers nothing), keepalives come through, and
nginx spreads streams over all three replicas."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from service.live.sse import KEEPALIVE
from tests.support.server import open_stream
from tests.support.stack import REPLICAS, URL, reconnecting_streams, replica_metric, token

pytestmark = pytest.mark.stack


async def test_a_question_asked_through_the_proxy_comes_back_live() -> None:
    student = uuid.uuid4()
    async with (
        open_stream(URL, token(student)) as stream,
        httpx.AsyncClient(
            base_url=URL, headers={"Authorization": f"Bearer {token(student)}"}
        ) as client,
    ):
        assert stream.response.status_code == 200
        assert stream.response.headers["cache-control"] == "no-store, no-transform"
        assert (await stream.next()).event == "connected"
        asked = await client.post(
            "/api/v1/content-requests", json={"question": "How do plants make food?"}
        )
        assert asked.status_code == 201, asked.text
        request = asked.json()["id"]
        # The worker's simulated pipeline: a few one-second stages, then a video, a failure or
        # a question back: each is a notification about this request.
        [notification] = await stream.notifications(1, timeout=60)
        assert notification["payload"]["content_id"] == request


async def test_the_first_event_leaves_the_proxy_at_once() -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", 8000)
    started = time.monotonic()
    writer.write(
        f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
        f"Authorization: Bearer {token(uuid.uuid4())}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    received = b""
    while b"event: connected" not in received:
        received += await asyncio.wait_for(reader.read(4096), 2)
    elapsed = time.monotonic() - started
    writer.close()
    assert received.startswith(b"HTTP/1.1 200")
    assert elapsed < 1.0, f"the first event took {elapsed:.2f} s through the proxy"


async def test_keepalives_come_through_the_proxy() -> None:
    # KEEPALIVE_SECONDS is 15 on the stack; nginx's proxy_read_timeout (75 s) is above it.
    reader, writer = await asyncio.open_connection("127.0.0.1", 8000)
    writer.write(
        f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
        f"Authorization: Bearer {token(uuid.uuid4())}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    received = b""
    async with asyncio.timeout(20):
        while KEEPALIVE not in received:
            received += await reader.read(4096)
    writer.close()


async def test_streams_reach_all_three_replicas() -> None:
    streams = await reconnecting_streams([uuid.uuid4() for _ in range(12)])
    try:
        per_replica = {
            name: await asyncio.to_thread(replica_metric, name, "vividly_streams_open")
            for name in REPLICAS
        }
    finally:
        for stream in streams:
            stream.close()
    assert all(count >= 1 for count in per_replica.values()), per_replica
    assert sum(per_replica.values()) >= len(streams), per_replica
