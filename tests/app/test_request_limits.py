"""What a client may make the server hold: bodies and heads over the limits, slow heads,
chunk trailers, a stream request with a body (a real uvicorn on a socket, raw bytes)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast

import httpx
from starlette.types import Message

from service.http.stream import EventStream
from service.live.feed import Feed
from tests.support.hardening import (
    HEAD_TIMEOUT,
    HISTORY,
    REQUESTS,
    STREAM,
    bearer,
    raw_request,
)
from tests.support.server import (
    RunningServer,
)


async def test_bodies_over_the_limit_are_413_before_being_read(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    # A declared 100 MB body: answered at once, with not one body byte sent.
    answer = await raw_request(
        server,
        b"POST /api/v1/dev/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000000\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to go by
        for _ in range(40):
            yield b" " * 8192

    chunked = await client.post(REQUESTS, content=chunks(), headers=bearer(server))
    assert chunked.status_code == 413
    assert chunked.json()["detail"]


async def test_oversized_request_heads_are_refused(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    huge = "Bearer " + "a" * (server.settings.max_header_bytes + 1)
    response = await client.get(HISTORY, headers={"Authorization": huge})
    assert response.status_code == 431
    assert "headers larger than" in response.json()["detail"]
    many = {f"x-filler-{i}": "b" * 200 for i in range(100)}
    assert (await client.get(HISTORY, headers=many)).status_code == 431
    # The server is fine afterwards, and a normal head passes.
    assert (await client.get(HISTORY, headers=bearer(server))).status_code == 200


async def test_a_422_echoes_only_a_short_prefix_of_the_input(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    big = "x" * 50_000
    response = await client.post("/api/v1/dev/login", json={"user_id": big})
    assert response.status_code == 422
    assert len(response.content) < 1000
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "user_id"]
    assert big.startswith(problem["input"].rstrip("…"))
    whole = await client.post(
        REQUESTS, json={"question": "q", "extra": big}, headers=bearer(server)
    )
    assert whole.status_code == 422
    assert len(whole.content) < 2000


async def test_a_stream_request_with_a_body_is_refused_and_holds_no_slot(
    server: RunningServer,
) -> None:
    user = uuid.uuid4()
    head = (
        f"GET {STREAM} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token(user)}\r\n"
    ).encode()
    chunked = await raw_request(
        server, head + b"Transfer-Encoding: chunked\r\n\r\n", b"4\r\nabcd\r\n"
    )
    assert chunked.startswith(b"HTTP/1.1 400"), chunked[:200]
    assert b'"the stream takes no request body"' in chunked
    sized = await raw_request(server, head + b"Content-Length: 4\r\n\r\n", b"abcd")
    assert sized.startswith(b"HTTP/1.1 400"), sized[:200]
    assert server.hub.stream_count(user) == 0


async def test_a_stream_whose_receive_fails_is_closed(server: RunningServer) -> None:
    async def receive() -> Message:
        raise RuntimeError("body limit")

    async def send(_message: Message) -> None:
        return None

    user = uuid.uuid4()
    subscription = server.hub.subscription(user, queue_size=8, timeout=1)
    async with subscription:
        stream = EventStream(
            feed=cast(Feed, None),  # no cursor: no replay
            subscription=subscription,
            settings=server.settings,
            cursor=None,
            token_expires_at=datetime.now(UTC) + timedelta(minutes=5),
        )
        async with asyncio.timeout(3):  # before the fix: open until max age
            await stream({"type": "http", "state": {}}, receive, send)
    assert subscription.closed_reason == "disconnected"
    assert server.hub.stream_count(user) == 0


async def test_chunked_trailers_count_against_the_head_limit(server: RunningServer) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {REQUESTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token(uuid.uuid4())}"
        "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    writer.write(head + b"2\r\n{}\r\n0\r\nX-Trailer: ")
    piece = b"a" * 16384
    try:
        for _ in range(2 * 1024 * 1024 // len(piece)):  # 2 MB of trailer, never finished
            writer.write(piece)
            await writer.drain()
    except ConnectionError:
        pass  # closed by the server: what the fix does
    try:
        async with asyncio.timeout(5):  # before the fix: no answer while the trailer goes on
            answer = await reader.read(65536)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"chunk framing and trailers larger than" in answer


async def test_an_unfinished_request_head_is_closed_after_the_head_timeout(
    server: RunningServer,
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    host, port = server.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    answer = b""
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-a: ")
        async with asyncio.timeout(HEAD_TIMEOUT + 3):  # before the fix: open for good
            while not answer:
                with contextlib.suppress(ConnectionError):
                    writer.write(b"a")  # a drip keeps no head alive
                    await writer.drain()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.2):
                        answer = await reader.read(65536)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"not received within" in answer
    assert loop.time() - started >= HEAD_TIMEOUT - 0.1
    silent = await raw_request(server, b"")  # no byte at all: the same
    assert silent.startswith(b"HTTP/1.1 408"), silent[:200]


async def test_many_tiny_headers_count_as_sent(server: RunningServer) -> None:
    # 3,276 headers `x: ` (no value): 3 KB of names, 16 KB on the wire with their separators
    # (the review's header count overhead); refused once the separators count.
    count = server.settings.max_header_bytes // 5
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"x: \r\n" * count + b"\r\n"
    answer = await raw_request(server, head)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
