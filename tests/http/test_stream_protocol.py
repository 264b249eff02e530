"""The connection protocol (service/http/stream_protocol.py) over raw sockets: which requests it
serves itself, that they get the bytes uvicorn's path would give, and that everything else
reaches uvicorn whole, with its limits and deadlines intact."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from service.http.stream_protocol import StreamProtocol
from tests.support.server import RunningServer, running_server, settings_for
from tests.support.waiting import until

PATH = b"/api/v1/notifications/stream"
ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
async def cors_server(database_url: str) -> AsyncIterator[RunningServer]:
    settings = settings_for(database_url, cors_origins=[ORIGIN], head_timeout_seconds=1.0)
    async with running_server(settings) as running:
        yield running


def port_of(server: RunningServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def request(token: str, *extra: str, target: bytes = PATH) -> bytes:
    lines = [
        b"GET " + target + b" HTTP/1.1",
        b"Host: test",
        b"Authorization: Bearer " + token.encode(),
    ]
    lines += [line.encode() for line in extra]
    return b"\r\n".join(lines) + b"\r\n\r\n"


class Raw:
    """A client socket that reads whatever the server sends, in the background."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.received = b""
        self.closed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server: RunningServer) -> Raw:
        return cls(*await asyncio.open_connection("127.0.0.1", port_of(server)))

    async def _read(self) -> None:
        while chunk := await self.reader.read(65536):
            self.received += chunk
        self.closed.set()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self) -> tuple[bytes, list[bytes], bytes]:
        """The status line, the header lines (no `date`), and what followed the head."""
        await until(lambda: b"\r\n\r\n" in self.received, "a response head")
        head, _, rest = self.received.partition(b"\r\n\r\n")
        status, *headers = head.split(b"\r\n")
        return status, [h for h in headers if not h.startswith(b"date:")], rest

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()


async def served(server: RunningServer, *pieces: bytes) -> tuple[Raw, str]:
    """Send `pieces` (a pause between them) on a new connection; once the answer began, who
    answers it: "here" (this protocol) or "uvicorn" (handed over)."""
    connections = server.server.server_state.connections
    before = set(connections)
    raw = await Raw.open(server)
    await until(lambda: set(connections) - before, "the connection accepted")
    [connection] = set(connections) - before
    assert isinstance(connection, StreamProtocol)
    for number, piece in enumerate(pieces):
        if number:
            await asyncio.sleep(0.05)
        await raw.send(piece)
    await raw.head()
    return raw, "here" if connection._task is not None else "uvicorn"


async def on_both_paths(server: RunningServer, head: bytes) -> tuple[list[bytes], bytes]:
    """Send `head` (its lines, without the blank line) served here, then with `Content-Length:
    0` (no body to the app, but this protocol leaves it to uvicorn); check both answers are the
    same 200 head and first event (up to its timestamp). This path's header lines (no `date`)
    and what followed its head."""
    fast, fast_by = await served(server, head + b"\r\n\r\n")
    slow, slow_by = await served(server, head + b"\r\nContent-Length: 0\r\n\r\n")
    try:
        assert (fast_by, slow_by) == ("here", "uvicorn")
        fast_status, fast_headers, fast_rest = await fast.head()
        slow_status, slow_headers, slow_rest = await slow.head()
        assert fast_status == slow_status == b"HTTP/1.1 200 OK"
        assert fast_headers == slow_headers
        # The same first event, chunked the same way (only its timestamp differs).
        assert fast_rest.split(b"timestamp")[0] == slow_rest.split(b"timestamp")[0]
        return fast_headers, fast_rest
    finally:
        await fast.close()
        await slow.close()


@pytest.mark.parametrize("origin", [None, ORIGIN])
async def test_a_stream_served_here_has_the_head_and_first_event_uvicorns_path_gives(
    cors_server: RunningServer, origin: str | None
) -> None:
    token = cors_server.token(uuid.uuid4())
    extra = [f"Origin: {origin}"] if origin else []
    headers, rest = await on_both_paths(
        cors_server, request(token, *extra).removesuffix(b"\r\n\r\n")
    )
    if origin:
        assert f"access-control-allow-origin: {origin}".encode() in headers
    assert b"event: connected" in rest


@pytest.mark.parametrize(
    "where",
    ["cookies, the later one wins", "a cursor in the query wins", "a cursor in the header"],
)
async def test_the_token_and_cursor_are_read_where_the_app_reads_them(
    cors_server: RunningServer, where: str
) -> None:
    token = cors_server.token(uuid.uuid4())
    lines = {
        "cookies, the later one wins": [
            "Cookie: theme=dark; access_token=not-a-token",
            f"Cookie: access_token={token}",
        ],
        "a cursor in the query wins": [f"Authorization: Bearer {token}", "Last-Event-ID: junk"],
        "a cursor in the header": [f"Authorization: Bearer {token}", "Last-Event-ID: 0"],
    }[where]
    target = PATH + (b"?last_event_id=0" if "query" in where else b"")
    head = b"\r\n".join(
        [b"GET " + target + b" HTTP/1.1", b"Host: test"] + [x.encode() for x in lines]
    )
    _headers, rest = await on_both_paths(cors_server, head)
    # With a cursor, `connected` names no starting point: the replay is the start.
    assert (b"id: " in rest) == ("cookies" in where)


async def test_the_stream_ends_when_its_client_goes_and_reads_nothing_sent_meanwhile(
    cors_server: RunningServer,
) -> None:
    hub = cors_server.hub
    await until(lambda: not hub.open_subscriptions(), "the other tests' streams closed")
    raw, by = await served(cors_server, request(cors_server.token(uuid.uuid4())))
    assert by == "here"
    await raw.send(b"whatever a client sends after its request is dropped\r\n\r\n")
    await asyncio.sleep(0.1)
    assert not raw.closed.is_set()
    assert len(hub.open_subscriptions()) == 1
    await raw.close()
    await until(lambda: not hub.open_subscriptions(), "the stream closed")
    await until(lambda: not cors_server.server.server_state.tasks, "its task done")


async def test_a_stream_asked_to_close_its_connection_says_so(
    cors_server: RunningServer,
) -> None:
    raw, by = await served(
        cors_server, request(cors_server.token(uuid.uuid4()), "Connection: close")
    )
    try:
        assert by == "uvicorn"
        status, headers, rest = await raw.head()
        assert status == b"HTTP/1.1 200 OK"
        assert b"connection: close" in headers
        assert not [line for line in headers if line.startswith(b"connection: keep-alive")]
        assert b"event: connected" in rest
    finally:
        await raw.close()


async def test_a_head_in_pieces_is_served_here_or_handed_over_whole(
    cors_server: RunningServer,
) -> None:
    token = cors_server.token(uuid.uuid4())
    whole = request(token)
    raw, by = await served(cors_server, whole[:9], whole[9:40], whole[40:])
    status, _, rest = await raw.head()
    assert (by, status) == ("here", b"HTTP/1.1 200 OK")
    assert b"event: connected" in rest
    await raw.close()

    # Looked like the stream for its first 20 bytes: uvicorn gets all of them.
    other = await Raw.open(cors_server)
    history = request(token, target=b"/api/v1/notifications/history")
    await other.send(history[:20])
    await asyncio.sleep(0.05)
    await other.send(history[20:])
    status, headers, _body = await other.head()
    assert status == b"HTTP/1.1 200 OK"
    assert b"content-type: application/json" in headers
    await other.close()


async def test_refusals_are_the_apps_answers_counted_once(cors_server: RunningServer) -> None:
    hub = cors_server.hub
    auth_before = hub.refused_by_reason["auth"]
    raw, by = await served(cors_server, request("not-a-token"))
    status, headers, _body = await raw.head()
    assert (by, status) == ("uvicorn", b"HTTP/1.1 401 Unauthorized")
    assert b"x-content-type-options: nosniff" in headers
    await until(lambda: raw.closed.is_set() or b"}" in raw.received, "the body")
    assert "detail" in json.loads(raw.received.partition(b"\r\n\r\n")[2])
    assert hub.refused_by_reason["auth"] == auth_before + 1
    await raw.close()

    # Another origin: CrossOrigin's own answer, no CORS header.
    token = cors_server.token(uuid.uuid4())
    other, by = await served(cors_server, request(token, "Origin: https://evil.example"))
    _status, headers, _rest = await other.head()
    assert by == "uvicorn"
    assert not [h for h in headers if h.startswith(b"access-control-")]
    await other.close()


async def test_a_head_too_large_or_too_slow_gets_uvicorns_431_and_408_on_time(
    cors_server: RunningServer,
) -> None:
    token = cors_server.token(uuid.uuid4())
    large = await Raw.open(cors_server)
    await large.send(request(token, "X-Padding: " + "a" * 20_000))
    status, _headers, _body = await large.head()
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
    await until(lambda: large.closed.is_set(), "the connection closed")
    assert "detail" in json.loads(large.received.partition(b"\r\n\r\n")[2])
    await large.close()

    slow = await Raw.open(cors_server)
    started = time.monotonic()
    await slow.send(request(token)[:50])  # a stream's head, never finished
    await until(lambda: slow.closed.is_set(), "the connection closed", timeout=5)
    elapsed = time.monotonic() - started
    status, _headers, _body = await slow.head()
    assert status == b"HTTP/1.1 408 Request Timeout"
    # HEAD_TIMEOUT_SECONDS is 1 here: the hand-over must not start the deadline again (2 s).
    assert 0.9 < elapsed < 1.8
    await slow.close()


async def test_a_request_pipelined_behind_the_stream_sends_both_to_uvicorn(
    cors_server: RunningServer,
) -> None:
    token = cors_server.token(uuid.uuid4())
    raw, by = await served(cors_server, request(token) + request(token, target=b"/healthz"))
    status, _headers, rest = await raw.head()
    assert (by, status) == ("uvicorn", b"HTTP/1.1 200 OK")
    assert b"event: connected" in rest
    await raw.close()


async def test_a_stream_not_admitted_gets_unavailable_and_the_connection_closes(
    database_url: str,
) -> None:
    settings = settings_for(database_url, max_streams=1, cors_origins=[ORIGIN])
    async with running_server(settings) as server:
        first, _ = await served(server, request(server.token(uuid.uuid4())))
        token = server.token(uuid.uuid4())
        for extra in ([], [f"Origin: {ORIGIN}"]):
            second, by = await served(server, request(token, *extra))
            await until(second.closed.is_set, "the connection closed")
            status, headers, body = await second.head()
            assert (by, status) == ("here", b"HTTP/1.1 200 OK")
            assert b"event: unavailable" in body
            assert b"connection: close" in headers
            assert b"x-content-type-options: nosniff" in headers
            assert (f"access-control-allow-origin: {ORIGIN}".encode() in headers) == bool(extra)
            await second.close()
        assert server.hub.refused_by_reason["global_limit"] == 2
        await first.close()


async def test_the_access_line_is_uvicorns_with_the_forwarded_client(
    cors_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = cors_server.token(uuid.uuid4())
    forwarded = "X-Forwarded-For: 203.0.113.7"  # from 127.0.0.1: FORWARDED_ALLOW_IPS' default
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.setLevel(logging.INFO)
    answers = []
    try:
        with caplog.at_level(logging.INFO, logger="uvicorn.access"):
            for extra in ([], ["Content-Length: 0"]):
                answers.append(await served(cors_server, request(token, forwarded, *extra)))
            await until(lambda: len(caplog.records) >= 2, "two access lines")
    finally:
        access.setLevel(level)
        for raw, _by in answers:
            await raw.close()
    assert [by for _raw, by in answers] == ["here", "uvicorn"]
    fast_line, slow_line = (record.args for record in caplog.records[:2])
    assert fast_line == slow_line
    assert fast_line == ("203.0.113.7:0", "GET", PATH.decode(), "1.1", 200)


async def test_keepalives_go_out_on_both_paths_and_here_without_waking_the_stream(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[bytes] = []  # what the streams' tasks wrote, on this protocol's path
    write = StreamProtocol.write

    async def counted(self: StreamProtocol, data: bytes) -> None:
        written.append(data)
        await write(self, data)

    monkeypatch.setattr(StreamProtocol, "write", counted)
    settings = settings_for(database_url, keepalive_seconds=0.2)
    async with running_server(settings) as server:
        token = server.token(uuid.uuid4())
        fast, fast_by = await served(server, request(token))
        slow, slow_by = await served(server, request(token, "Content-Length: 0"))
        try:
            assert (fast_by, slow_by) == ("here", "uvicorn")
            for raw in (fast, slow):
                await until(lambda: keepalives(raw) >= 3, "keepalives")  # noqa: B023
            # Here the wheel wrote them itself; the stream's task wrote nothing after `connected`.
            assert b": keepalive\n\n" not in written
        finally:
            await fast.close()
            await slow.close()


def keepalives(raw: Raw) -> int:
    return raw.received.count(b": keepalive\n\n")
