"""Streams held by several load-generator processes: 100,000 clients do not fit in one.

One process can open at most its open-file limit of sockets (20,000 on the machines we bench
on) and one event loop drives roughly 10,000 busy streams before its own scheduling shows in
the latencies it measures. `ClientFleet` therefore starts `python -m bench.client_fleet`
children, hands each its share of (user, port) pairs, and talks to it with one JSON line per
command on its stdin/stdout. Every child timestamps what it receives on the machine's monotonic
clock (CLOCK_MONOTONIC is shared by all processes), so the parent compares arrivals with the
times it issued UPDATEs.

After its clients connected, a child collects, freezes what it holds and turns its collector
off until it is told to close: its own pauses must not show as ours in the latencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .harness import tokens
from .sse_client import Received, SSEClient

PER_PROCESS = 12_500  # streams per child: under the open-file limit, one loop's comfortable load


@dataclass
class ClientRecord:
    """What a child's client saw, as the parent reads it back (the fields the scenarios read)."""

    received: Received
    connected_at: float | None
    connects: int
    last_id: int | None


@dataclass
class Recorded:
    """The records of a `ClientFleet`, shaped like `scenarios.Fleet` for its readers."""

    users: list[uuid.UUID]
    clients: list[ClientRecord]

    @property
    def by_user(self) -> dict[uuid.UUID, ClientRecord]:
        return dict(zip(self.users, self.clients, strict=True))


# -- the parent's side ------------------------------------------------------------------------


class ClientFleet:
    """`users[i]` streams to `ports[i]`, from as many children as `per_process` asks."""

    def __init__(
        self,
        users: list[uuid.UUID],
        ports: list[int],
        *,
        reconnect: bool = False,
        browser_like: bool = False,
        per_process: int = PER_PROCESS,
    ) -> None:
        self.users = users
        self.ports = ports
        self.options = {"reconnect": reconnect, "browser_like": browser_like}
        self.per_process = per_process
        self._children: list[asyncio.subprocess.Process] = []
        self._shares: list[range] = []

    async def connect(self) -> float:
        """Start the children and open every stream; the seconds until the last connected."""
        started = time.monotonic()
        for start in range(0, len(self.users), self.per_process):
            share = range(start, min(start + self.per_process, len(self.users)))
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.client_fleet",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**24,
            )
            spec = {
                **self.options,
                "streams": [[str(self.users[i]), self.ports[i]] for i in share],
            }
            await self._send(child, spec)
            self._children.append(child)
            self._shares.append(share)
        replies = await asyncio.gather(*(self._reply(child) for child in self._children))
        refused = sum(reply["refused"] for reply in replies)
        if refused:
            raise RuntimeError(f"{refused} streams were refused while connecting")
        last: float = max(reply["last_at"] for reply in replies)
        return last - started

    @property
    def pids(self) -> list[int]:
        """The children's process ids."""
        return [child.pid for child in self._children]

    async def command(self, command: str, **arguments: Any) -> list[dict[str, Any]]:
        """Send `command` to every child; their replies."""
        for child in self._children:
            await self._send(child, {"command": command, **arguments})
        return list(await asyncio.gather(*(self._reply(child) for child in self._children)))

    async def connected_since(self, since: float) -> int:
        """How many clients parsed a `connected` at or after `since` (monotonic)."""
        replies = await self.command("count", since=since)
        return sum(reply["count"] for reply in replies)

    async def records(self) -> list[ClientRecord]:
        """Every client's record, in `users` order."""
        with tempfile.TemporaryDirectory(prefix="vividly-clients-") as directory:
            paths = [str(Path(directory) / f"{n}.json") for n in range(len(self._children))]
            for child, path in zip(self._children, paths, strict=True):
                await self._send(child, {"command": "dump", "path": path})
            await asyncio.gather(*(self._reply(child) for child in self._children))
            records: list[ClientRecord] = []
            for path in paths:
                for raw in json.loads(Path(path).read_text()):
                    received = Received(
                        [tuple(n) for n in raw["notifications"]],
                        [tuple(n) for n in raw["named"]],
                    )
                    records.append(
                        ClientRecord(received, raw["connected_at"], raw["connects"], raw["last_id"])
                    )
        return records

    async def clear(self) -> None:
        """Forget what was received so far."""
        await self.command("clear")

    async def close(self) -> None:
        for child in self._children:
            if child.returncode is None and child.stdin is not None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # it died
                    await self._send(child, {"command": "close"})
        for child in self._children:
            try:
                await asyncio.wait_for(child.wait(), 60)
            except TimeoutError:
                child.kill()
        self._children.clear()

    @staticmethod
    async def _send(child: asyncio.subprocess.Process, message: dict[str, Any]) -> None:
        assert child.stdin is not None
        child.stdin.write(json.dumps(message).encode() + b"\n")
        await child.stdin.drain()

    @staticmethod
    async def _reply(child: asyncio.subprocess.Process) -> dict[str, Any]:
        assert child.stdout is not None
        line = await child.stdout.readline()
        if not line:
            raise RuntimeError(f"a client process exited ({await child.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply


# -- the child's side -------------------------------------------------------------------------


async def _child() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def reply(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    spec = json.loads(await reader.readline())
    users = [uuid.UUID(user) for user, _port in spec["streams"]]
    clients = [
        SSEClient(
            "127.0.0.1",
            port,
            token,
            reconnect=spec["reconnect"],
            browser_like=spec["browser_like"],
        )
        for (_user, port), token in zip(spec["streams"], tokens(users), strict=True)
    ]
    gate = asyncio.Semaphore(128)

    async def open_one(client: SSEClient) -> None:
        async with gate:
            await client.connect()
            await client.ready.wait()

    await asyncio.gather(*(open_one(client) for client in clients))
    refused = sum(1 for client in clients if client.status != 200)
    reply({"refused": refused, "last_at": max(c.connected_at or 0.0 for c in clients)})
    gc.collect()
    gc.freeze()
    gc.disable()
    while True:
        message = json.loads(await reader.readline())
        command = message["command"]
        if command == "count":
            since = message["since"]
            times = [c.connected_at or 0.0 for c in clients if (c.connected_at or 0.0) >= since]
            reply({"count": len(times), "last_at": max(times, default=0.0)})
        elif command == "received":
            reply({"count": sum(len(c.received.notifications) for c in clients)})
        elif command == "clear":
            for client in clients:
                client.received.notifications.clear()
                client.received.named.clear()
            reply({})
        elif command == "dump":
            Path(message["path"]).write_text(
                json.dumps(
                    [
                        {
                            "notifications": client.received.notifications,
                            "named": client.received.named,
                            "connected_at": client.connected_at,
                            "connects": client.connects,
                            "last_id": client.last_id,
                        }
                        for client in clients
                    ]
                )
            )
            reply({})
        elif command == "close":
            for client in clients:
                client.close()
            await asyncio.gather(*(client.closed for client in clients), return_exceptions=True)
            return


if __name__ == "__main__":
    from .harness import raise_fd_limit

    raise_fd_limit()
    try:
        import uvloop

        uvloop.run(_child())
    except ImportError:
        asyncio.run(_child())
