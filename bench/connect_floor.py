"""What a connect costs a server that does nothing else: the floor under `bench.run connect`.

    .venv/bin/python -m bench.connect_floor [STREAMS]

Two servers that answer every request with the stream's head and one `connected` event and
then hold the connection, each its own process, measured with the same client as the product:

- `uvicorn`: a bare ASGI app under uvicorn (httptools, uvloop, no access log), as the product
  runs: uvicorn's per-connection protocol, request cycle, scope and task, two writes.
- `protocol`: an `asyncio.Protocol` of its own on uvloop, parsing with httptools and writing
  the head and the event in one write.

Server CPU (user + system, /proc) for the burst ÷ streams. The difference is what replacing
uvicorn's protocol for streams could save at most (issue 25); the product's own work (token,
hub, feed, the event) comes on top of either.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from typing import Any

from .fleet import process_cpu
from .harness import free_port, raise_fd_limit
from .sse_client import SSEClient

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
EVENT = b"event: connected\ndata: {}\n\n"


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The stream's head, one event, then wait for the client to leave."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    await send({"type": "http.response.body", "body": EVENT, "more_body": True})
    while (await receive())["type"] != "http.disconnect":
        pass


class BareProtocol(asyncio.Protocol):
    """One connection: parse the head, answer in one write, hold the connection."""

    def __init__(self) -> None:
        import httptools

        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_headers_complete(self) -> None:
        assert self.transport is not None
        self.transport.write(HEAD + b"%x\r\n%s\r\n" % (len(EVENT), EVENT))


async def serve_protocol(port: int) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_server(BareProtocol, "127.0.0.1", port, backlog=2048)
    await asyncio.Event().wait()


async def measure(kind: str, streams: int) -> dict[str, Any]:
    port = free_port()
    command = [sys.executable, "-m", "bench.connect_floor", f"serve-{kind}", str(port)]
    server = await asyncio.create_subprocess_exec(*command)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        gate = asyncio.Semaphore(128)
        clients = [SSEClient("127.0.0.1", port, "none") for _ in range(streams)]

        async def open_one(client: SSEClient) -> None:
            async with gate:
                await client.connect()
                await client.ready.wait()

        before, started = sum(process_cpu(server.pid)), time.monotonic()
        await asyncio.gather(*(open_one(client) for client in clients))
        cpu, seconds = sum(process_cpu(server.pid)) - before, time.monotonic() - started
        for client in clients:
            client.close()
        await asyncio.sleep(1)
        return {
            "server": kind,
            "streams": streams,
            "connect_s": round(seconds, 2),
            "cpu_us_per_stream": round(cpu / streams * 1e6),
        }
    finally:
        server.terminate()
        await server.wait()


def main() -> None:
    raise_fd_limit()
    import uvloop

    if len(sys.argv) == 3 and sys.argv[1].startswith("serve-"):
        gc.collect()
        gc.freeze()
        port = int(sys.argv[2])
        if sys.argv[1] == "serve-uvicorn":
            import uvicorn

            uvicorn.run(
                bare_app, port=port, log_level="warning", http="httptools", loop="uvloop",
                access_log=False, interface="asgi3",
            )  # fmt: skip
        else:
            uvloop.run(serve_protocol(port))
        return
    streams = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for kind in ("uvicorn", "protocol", "uvicorn", "protocol"):
        print(uvloop.run(measure(kind, streams)), flush=True)


if __name__ == "__main__":
    main()
