"""bench's SSEClient (also the reconnecting browser stand-in of tests/stack): a stream ends, by
its last chunk or, for a refusal, by its Content-Length, and either way the client closes the
connection and so reconnects. A refusal read as chunks left it waiting forever behind nginx."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from bench.sse_client import SSEClient


class Transport:
    def __init__(self) -> None:
        self.closed = False
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


def opened() -> tuple[SSEClient, Transport]:
    client = SSEClient("127.0.0.1", 8000, "token")
    transport = Transport()
    client.connection_made(cast(Any, transport))
    assert transport.written.startswith(b"GET /api/v1/notifications/stream HTTP/1.1\r\n")
    return client, transport


async def test_a_refusal_framed_by_its_length_ends_the_stream() -> None:
    client, transport = opened()
    body = b'retry: 3000\nevent: unavailable\ndata: {"detail":"shutting down"}\n\n'
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    client.data_received(head + b"content-length: %d\r\n\r\n" % len(body) + body[:20])
    assert not transport.closed
    client.data_received(body[20:])
    assert [name for name, _ in client.received.named] == ["unavailable"]
    assert transport.closed


async def test_a_chunked_stream_ends_with_its_last_chunk() -> None:
    client, transport = opened()
    event = b'id: 7\ndata: {"id":7,"payload":{"content_id":"c"}}\n\n'
    client.data_received(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    client.data_received(b"%x\r\n" % len(event) + event + b"\r\n")
    assert [n for n, _, _ in client.received.notifications] == [7]
    assert not transport.closed
    client.data_received(b"0\r\n\r\n")
    assert transport.closed
    await asyncio.sleep(0)
