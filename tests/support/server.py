"""Test helpers for live delivery: an in-process uvicorn on a real socket, an SSE client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI
from httpx_sse import ServerSentEvent, aconnect_sse

from service.app import create_app
from service.http.auth import mint_token
from service.http.server import Server, server_config
from service.live.hub import Hub
from service.live.listener import Listener
from service.settings import Settings

SECRET = "test-secret-0123456789-abcdefghijklmnop"


def settings_for(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": SECRET,
        "dev_login": True,
        "unlisten_delay_seconds": 0.2,
        "listener_heartbeat_seconds": 1,
        # Stopping a test's server need not wait for load balancers nor spread reconnects.
        "shutdown_unready_seconds": 0,
        "shutdown_drain_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class RunningServer:
    base_url: str
    app: FastAPI
    settings: Settings
    server: Server

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.hub
        return hub

    @property
    def listener(self) -> Listener:
        listener: Listener = self.app.state.listener
        return listener

    def token(self, user: uuid.UUID, ttl: timedelta = timedelta(minutes=10)) -> str:
        return mint_token(user, self.settings, ttl=ttl)


@asynccontextmanager
async def running_server(
    settings: Settings, *, with_worker: bool = False, port: int = 0
) -> AsyncIterator[RunningServer]:
    """Serve `create_app(settings)` with uvicorn until the block ends, on `port` (0: a free one;
    a test whose PUBLIC_URL must be the server itself picks one first, `ports.free_port`)."""
    app = create_app(settings, with_worker=with_worker)
    config = server_config(
        app, settings, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = Server(app, config)
    async with serving(server, stop_timeout=15) as port:
        running = RunningServer(f"http://127.0.0.1:{port}", app, settings, server)
        await asyncio.wait_for(running.listener.connected.wait(), 5)
        yield running


@asynccontextmanager
async def serving(server: uvicorn.Server, *, stop_timeout: float = 10) -> AsyncIterator[int]:
    """Run a configured uvicorn `server` until the block ends; yield the port it listens on."""
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, stop_timeout)


@dataclass
class Stream:
    """An open SSE stream whose events are read in the background."""

    response: httpx.Response
    events: asyncio.Queue[ServerSentEvent] = field(default_factory=asyncio.Queue)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    last_event_id: int | None = None
    retry: int | None = None  # the last `retry:` the server sent

    async def next(self, timeout: float = 2.0) -> ServerSentEvent:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def next_data(self, timeout: float = 2.0) -> dict[str, Any]:
        event = await self.next(timeout)
        data: dict[str, Any] = json.loads(event.data)
        return data

    async def silent(self, seconds: float = 0.3) -> None:
        try:
            event = await asyncio.wait_for(self.events.get(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event {event}")

    async def notifications(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The next `count` notification events (skipping keepalives and named events)."""
        got: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while len(got) < count:
                event = await self.events.get()
                if event.event == "message" and event.id:
                    got.append(json.loads(event.data))
        return got


@asynccontextmanager
async def open_stream(
    base_url: str,
    token: str | None,
    *,
    last_event_id: int | None = None,
    query: str = "",
    cookie: bool = False,
) -> AsyncIterator[Stream]:
    """Open the stream; the caller checks `stream.response.status_code`."""
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if token is not None and cookie:
        cookies["access_token"] = token
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    timeout = httpx.Timeout(10, read=None)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=timeout, cookies=cookies) as client,
        aconnect_sse(
            client, "GET", "/api/v1/notifications/stream" + query, headers=headers
        ) as source,
    ):
        stream = Stream(source.response)

        async def pump() -> None:
            try:
                if source.response.status_code == 200:
                    async for event in source.aiter_sse():
                        if event.id:
                            stream.last_event_id = int(event.id)
                        if event.retry is not None:
                            stream.retry = event.retry
                        if event.data:  # an id-only frame moves Last-Event-ID, nothing else
                            stream.events.put_nowait(event)
            except httpx.HTTPError:
                pass
            finally:
                stream.ended.set()

        task = asyncio.create_task(pump())
        try:
            yield stream
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def complete(
    conn: asyncpg.Connection, user: uuid.UUID, title: str = "Photosynthesis", **fields: Any
) -> uuid.UUID:
    """Insert a request for `user` and commit it as completed; return its id."""
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, title) VALUES ($1, $2) RETURNING id",
        user,
        title,
    )
    await conn.execute(
        "UPDATE content_requests SET status = 'completed', video_url = $2,"
        " thumbnail_url = $3, duration_seconds = $4 WHERE id = $1",
        request_id,
        fields.get("video_url", "/media/v.webm"),
        fields.get("thumbnail_url", "/media/t.png"),
        fields.get("duration_seconds", 30),
    )
    return request_id


async def open_unread_stream(base_url: str, token: str) -> socket.socket:
    """Open a stream on a socket with a tiny receive buffer, then never read from it."""
    parts = urlsplit(base_url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (parts.hostname, parts.port))
    request = (
        f"GET /api/v1/notifications/stream HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = await asyncio.wait_for(loop.sock_recv(sock, 1024), 5)
    assert head.startswith(b"HTTP/1.1 200"), head
    return sock
