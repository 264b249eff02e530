"""Rolling deploy: replicas behind a round-robin balancer, restarted one at a time, while
browser-like clients stream and completions continue.

The balancer is the clients' `port_source`: each (re)connect gets the next replica in rotation,
as nginx or a Kubernetes Service would pick one. A replica leaves the rotation when it is told
to stop (Kubernetes removes the endpoint as it sends SIGTERM) and joins again once its
`/readyz` answers 200. Every replica runs with MAX_STREAMS = `limit`; the harness reads every
replica's `vividly_streams_open` four times a second. Reported: notifications lost and
duplicated, each replica's highest stream count against its limit, streams refused at the limit
(those clients came back after `retry:` and were served elsewhere), and for each restart how
long the old replica took to exit, how long its clients took to be served again, and the
most of them that came back within one second (the wave the others absorb).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from typing import Any

import httpx

from . import observe, scenarios, writers
from .harness import Server

OPEN = "vividly_streams_open"
READY_WITHIN = 60.0
REFUSED_AT_LIMIT = 'vividly_streams_refused_total{reason="global_limit"}'


class Balancer:
    """Round robin over the replicas in rotation."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = list(ports)
        self._turn = itertools.count()
        self._last = ports[0]

    def remove(self, port: int) -> None:
        self._ports.remove(port)

    def add(self, port: int) -> None:
        self._ports.append(port)

    def pick(self) -> int:
        if self._ports:  # none in rotation: the last one picked, refused, retried later
            self._last = self._ports[next(self._turn) % len(self._ports)]
        return self._last


async def until_ready(server: Server) -> None:
    """Wait until the replica's /readyz answers 200 (its listener hears its own NOTIFY)."""
    async with httpx.AsyncClient(timeout=2) as client, asyncio.timeout(READY_WITHIN):
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(server.url + "/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def watch(
    servers: list[Server], peaks: dict[int, float], refused: dict[int, float], stop: asyncio.Event
) -> None:
    """Every 0.25 s: each replica's open streams (highest kept) and refusals at the limit."""
    while not stop.is_set():
        for server in list(servers):
            with contextlib.suppress(Exception):  # a replica restarting does not answer
                metrics = await server.metrics()
                index = servers.index(server)
                peaks[index] = max(peaks.get(index, 0), metrics.get(OPEN, 0))
                refused[server.process.pid] = metrics.get(REFUSED_AT_LIMIT, 0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


async def rolling(
    url: str,
    *,
    clients: int,
    replicas: int,
    limit: int,
    rate: float,
    drain: float,
    unready: float,
) -> dict[str, Any]:
    """Restart `replicas` one at a time under `clients` streams and `rate` completions/s."""
    env = {
        "MAX_STREAMS": str(limit),
        "SHUTDOWN_UNREADY_SECONDS": str(unready),
        "SHUTDOWN_DRAIN_SECONDS": str(drain),
        "POOL_MAX_SIZE": "10",
    }

    def start(port: int | None = None) -> Server:
        return Server.start(url, port, env)

    servers = [await asyncio.to_thread(start) for _ in range(replicas)]
    for server in servers:
        await until_ready(server)
    balancer = Balancer([server.port for server in servers])
    fleet, connect_seconds = await scenarios.connect_fleet(
        servers[0], clients, reconnect=True, browser_like=True, port_source=balancer.pick
    )
    stop, done = asyncio.Event(), asyncio.Event()
    peaks: dict[int, float] = {}
    refused: dict[int, float] = {}
    writing = asyncio.create_task(writers.drive_background(url, fleet.users, rate, stop))
    watching = asyncio.create_task(watch(servers, peaks, refused, done))
    restarts: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        await asyncio.sleep(3)
        for index in range(replicas):
            old = servers[index]
            on_old = [c for c in fleet.clients if c.port == old.port and c.connected_at]
            balancer.remove(old.port)  # the endpoint goes as SIGTERM is sent
            signalled = time.monotonic()
            exit_seconds = await asyncio.to_thread(old.stop, 60)
            new = await asyncio.to_thread(start, old.port)
            await until_ready(new)
            ready_after = time.monotonic() - signalled
            servers[index] = new
            balancer.add(new.port)
            async with asyncio.timeout(120):
                while any((c.connected_at or 0) < signalled for c in on_old):
                    await asyncio.sleep(0.05)
            back = Counter(int((c.connected_at or 0) - signalled) for c in on_old)
            restarts.append(
                {
                    "replica": index,
                    "streams_moved": len(on_old),
                    # The reconnect wave the other replicas (and the database) absorb.
                    "peak_reconnects_in_1s": max(back.values()),
                    "old_exit_s": round(exit_seconds, 2),
                    "replaced_ready_after_s": round(ready_after, 2),
                    "all_served_again_after_s": round(
                        max(c.connected_at or 0 for c in on_old) - signalled, 2
                    ),
                }
            )
            print(restarts[-1], flush=True)
            await asyncio.sleep(3)
        stop.set()
        committed = await writing
        await asyncio.sleep(5)
        delivery = observe.delivery_of(fleet, committed)
        await scenarios.close_fleet(fleet)
    finally:
        stop.set()
        done.set()
        await watching
        for server in servers:
            await asyncio.to_thread(server.stop)
    return {
        "clients": clients,
        "replicas": replicas,
        "max_streams_each": limit,
        "shutdown_unready_s": unready,
        "shutdown_drain_s": drain,
        "completions_per_s": rate,
        "connect_s": round(connect_seconds, 2),
        "rollout_s": round(time.monotonic() - started, 1),
        "notifications_committed": delivery["committed"],
        "lost": delivery["lost"],
        "duplicated": delivery["duplicated"],
        "missing": delivery["missing"][:5],
        "peak_streams_by_replica": {str(k): int(v) for k, v in sorted(peaks.items())},
        "over_limit": any(v > limit for v in peaks.values()),
        "refused_at_limit": int(sum(refused.values())),
        "restarts": restarts,
    }
