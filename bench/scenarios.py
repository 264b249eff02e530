"""The measured scenarios. Each returns a dict of figures; `bench/run.py` prints and saves them."""

from __future__ import annotations

import asyncio
import gc
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from db.urls import asyncpg_dsn

from .client_fleet import Recorded
from .harness import Server, token_source, tokens
from .sse_client import SSEClient

COMPLETE = """
UPDATE content_requests
SET status = 'completed', title = 'Bench video', video_url = '/media/bench.webm',
    thumbnail_url = '/media/bench.svg', duration_seconds = 4
WHERE id = $1
"""


@dataclass
class Fleet:
    """N users, one stream each."""

    users: list[uuid.UUID]
    clients: list[SSEClient] = field(default_factory=list)

    @property
    def by_user(self) -> dict[uuid.UUID, SSEClient]:
        return dict(zip(self.users, self.clients, strict=True))


async def connect_fleet(
    server: Server,
    count: int,
    *,
    concurrency: int = 256,
    reconnect: bool = False,
    browser_like: bool = False,
    token_ttl: float | None = None,
    port_source: Callable[[], int] | None = None,
) -> tuple[Fleet, float]:
    """Open `count` streams (one user each); return them and the seconds until all connected.

    With `port_source`, each (re)connect dials the port it picks (a load balancer's choice)."""
    users = [uuid.uuid4() for _ in range(count)]
    fleet = Fleet(users)
    all_connected = asyncio.Event()
    connected = 0

    def on_connected(client: SSEClient) -> None:
        nonlocal connected
        connected += 1
        if connected >= count:
            all_connected.set()

    fleet.clients = [
        SSEClient(
            "127.0.0.1",
            server.port,
            token,
            on_connected=on_connected,
            reconnect=reconnect,
            browser_like=browser_like,
            token_source=None if token_ttl is None else token_source(user, token_ttl),
            port_source=port_source,
        )
        for user, token in zip(users, tokens(users), strict=True)
    ]
    gate = asyncio.Semaphore(concurrency)

    async def open_one(client: SSEClient) -> None:
        async with gate:
            await client.connect()
            await client.ready.wait()

    started = time.monotonic()
    await asyncio.gather(*(open_one(client) for client in fleet.clients))
    await asyncio.wait_for(all_connected.wait(), 120)
    return fleet, time.monotonic() - started


async def close_fleet(fleet: Fleet) -> None:
    for client in fleet.clients:
        client.close()
    await asyncio.gather(*(client.closed for client in fleet.clients), return_exceptions=True)


async def make_requests(
    url: str, users: list[uuid.UUID], count: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """`count` requests in `processing`, spread over `users`; (request id, user) pairs."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            """
            INSERT INTO content_requests (student_id, status, question)
            SELECT ($1::uuid[])[1 + floor(random() * array_length($1::uuid[], 1))::int],
                   'processing', 'bench'
            FROM generate_series(1, $2)
            RETURNING id, student_id
            """,
            users,
            count,
        )
    finally:
        await connection.close()
    return [(row["id"], row["student_id"]) for row in rows]


async def run_writers(
    url: str, writers: int, work: Callable[[int, asyncpg.Connection], Awaitable[None]]
) -> None:
    """Run `work(index, connection)` on `writers` connections of their own, concurrently."""
    connections = [await asyncpg.connect(asyncpg_dsn(url)) for _ in range(writers)]
    try:
        await asyncio.gather(*(work(i, c) for i, c in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()


async def wait_turn(start: float, rate: float, n: int) -> None:
    """Sleep until the n-th operation of an open loop at `rate` per second is due."""
    delay = start + n / rate - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def drive_open_loop(
    url: str,
    requests: list[tuple[uuid.UUID, uuid.UUID]],
    rate: float,
    writers: int = 8,
    commit_ms: list[float] | None = None,
) -> dict[uuid.UUID, float]:
    """Complete `requests` at `rate` per second; return when each UPDATE was issued.

    `commit_ms`, when given, receives each UPDATE's own duration (the database's part).
    """
    issued: dict[uuid.UUID, float] = {}
    start = time.monotonic() + 0.1

    async def write(index: int, connection: asyncpg.Connection) -> None:
        statement = await connection.prepare(COMPLETE)
        for n in range(index, len(requests), writers):
            await wait_turn(start, rate, n)
            request_id = requests[n][0]
            issued[request_id] = began = time.monotonic()
            await statement.fetch(request_id)
            if commit_ms is not None:
                commit_ms.append((time.monotonic() - began) * 1000)

    await run_writers(url, writers, write)
    return issued


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def collect(
    fleet: Fleet | Recorded,
    requests: list[tuple[uuid.UUID, uuid.UUID]],
    issued: dict[uuid.UUID, float],
    *,
    settle: float = 5.0,
) -> dict[str, Any]:
    """Wait for delivery to settle, then count delivered, lost, duplicated and latency."""
    expected = {str(request_id): user for request_id, user in requests if request_id in issued}
    by_user = fleet.by_user
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        got = sum(len(c.received.notifications) for c in fleet.clients)
        if got >= len(expected):
            break
        await asyncio.sleep(0.1)
    latencies: list[float] = []
    delivered = duplicated = 0
    for user, client in by_user.items():
        seen = Counter(content for _, content, _ in client.received.notifications)
        duplicated += sum(count - 1 for count in seen.values() if count > 1)
        for _nid, content, at in client.received.notifications:
            if content in expected and expected[content] == user and seen[content] >= 1:
                latencies.append((at - issued[uuid.UUID(content)]) * 1000)
                seen[content] = 0  # count the first arrival only
                delivered += 1
    return {
        "expected": len(expected),
        "delivered": delivered,
        "lost": len(expected) - delivered,
        "duplicated": duplicated,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
    }


def reset_received(fleet: Fleet) -> None:
    for client in fleet.clients:
        client.received.notifications.clear()
        client.received.named.clear()


def sample_users(fleet: Fleet, count: int) -> list[uuid.UUID]:
    return random.sample(fleet.users, min(count, len(fleet.users)))


# -- throughput: pgbench ceiling vs end to end ------------------------------------------------

COMPLETE_NEXT = """
UPDATE content_requests
SET status = 'completed', title = 'Bench video', video_url = '/media/bench.webm',
    thumbnail_url = '/media/bench.svg', duration_seconds = 4
WHERE id = (SELECT id FROM bench_queue WHERE n = (SELECT nextval('bench_queue_seq')))
"""


# -- reconnect storm ------------------------------------------------------------------------


# -- polling baseline and churn ---------------------------------------------------------------


class OwnPauses:
    """The load generator's own GC pauses (it holds every client: its pauses look like ours).

    Entering freezes what the harness holds so far (its fleet), as the server does.
    """

    def __init__(self) -> None:
        self.pauses_ms: list[float] = []
        self._started = 0.0

    def _observe(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses_ms.append((time.perf_counter() - self._started) * 1000)

    def __enter__(self) -> OwnPauses:
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self._observe)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._observe)
        gc.unfreeze()

    def summary(self) -> dict[str, Any]:
        return {
            "collections": len(self.pauses_ms),
            "max_ms": round(max(self.pauses_ms, default=0.0), 1),
        }
