"""The measured scenarios. Each returns a dict of figures; `bench/run.py` prints and saves them."""

from __future__ import annotations

import asyncio
import contextlib
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
    fleet: Fleet,
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


async def fill_queue(url: str, users: list[uuid.UUID], count: int) -> None:
    """`bench_queue`: `count` processing requests of `users`, taken in order by nextval."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(
            """
            DROP TABLE IF EXISTS bench_queue;
            DROP SEQUENCE IF EXISTS bench_queue_seq;
            CREATE SEQUENCE bench_queue_seq;
            CREATE TABLE bench_queue (n bigint PRIMARY KEY, id uuid NOT NULL);
            """
        )
        await connection.execute(
            """
            WITH created AS (
                INSERT INTO content_requests (student_id, status, question)
                SELECT ($1::uuid[])[1 + floor(random() * array_length($1::uuid[], 1))::int],
                       'processing', 'bench'
                FROM generate_series(1, $2)
                RETURNING id
            )
            INSERT INTO bench_queue (n, id) SELECT row_number() OVER (), id FROM created
            """,
            users,
            count,
        )
        await connection.execute("ANALYZE content_requests; ANALYZE bench_queue")
    finally:
        await connection.close()


async def completed_requests(url: str) -> list[tuple[uuid.UUID, uuid.UUID]]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT c.id, c.student_id FROM bench_queue q JOIN content_requests c ON c.id = q.id"
            " WHERE c.status = 'completed'"
        )
    finally:
        await connection.close()
    return [(row["id"], row["student_id"]) for row in rows]


async def drive_queue(
    url: str, seconds: float, writers: int
) -> tuple[dict[uuid.UUID, float], dict[uuid.UUID, float], float]:
    """Complete queued requests as fast as `writers` connections can, for `seconds`.

    Returns when each UPDATE was issued and when it returned (committed), and the wall time.
    """
    issued: dict[uuid.UUID, float] = {}
    committed: dict[uuid.UUID, float] = {}
    deadline = time.monotonic() + seconds

    async def write(_index: int, connection: asyncpg.Connection) -> None:
        statement = await connection.prepare(COMPLETE_NEXT + " RETURNING id")
        while time.monotonic() < deadline:
            started = time.monotonic()
            request_id = await statement.fetchval()
            if request_id is None:
                return  # the queue ran dry
            issued[request_id] = started
            committed[request_id] = time.monotonic()

    started = time.monotonic()
    await run_writers(url, writers, write)
    return issued, committed, time.monotonic() - started


async def pgbench(url: str, script: str, clients: int, seconds: int) -> float:
    """Run pgbench (the binary pgserver ships) with `script`; return its tps."""
    from pathlib import Path

    import pgserver

    binary = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
    script_file = Path("/tmp") / f"vividly-bench-{uuid.uuid4().hex[:6]}.sql"
    script_file.write_text(script.strip() + ";\n")
    process = await asyncio.create_subprocess_exec(
        str(binary), "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-M", "prepared",
        "-f", str(script_file), asyncpg_dsn(url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await process.communicate())[0].decode()
    script_file.unlink()
    for line in output.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"pgbench printed no tps:\n{output}")


# -- reconnect storm ------------------------------------------------------------------------


async def drive_background(
    url: str, users: list[uuid.UUID], rate: float, stop: asyncio.Event, writers: int = 4
) -> dict[uuid.UUID, tuple[uuid.UUID, float]]:
    """Complete new requests of random `users` at `rate` until `stop`; request -> (user, commit)."""
    committed: dict[uuid.UUID, tuple[uuid.UUID, float]] = {}
    start = time.monotonic()

    async def write(index: int, connection: asyncpg.Connection) -> None:
        n = index
        while not stop.is_set():
            await wait_turn(start, rate, n)
            user = random.choice(users)
            request_id = await connection.fetchval(
                "INSERT INTO content_requests (student_id, status, question, title)"
                " VALUES ($1, 'completed', 'bench', 'Bench video') RETURNING id",
                user,
            )
            committed[request_id] = (user, time.monotonic())
            n += writers

    await run_writers(url, writers, write)
    return committed


# -- polling baseline and churn ---------------------------------------------------------------


async def database_transactions(url: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("SELECT pg_stat_force_next_flush()")
        value: int = await connection.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    return value


async def poll_history(
    base_url: str, users: list[uuid.UUID], period: float, stop: asyncio.Event
) -> dict[str, float]:
    """Each user polls GET /history every `period` s; content id -> first time it was seen."""
    import httpx

    seen: dict[str, float] = {}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def poll(token: str) -> None:
            await asyncio.sleep(random.uniform(0, period))
            headers = {"Authorization": f"Bearer {token}"}
            while not stop.is_set():
                started = time.monotonic()
                response = await client.get(
                    "/api/v1/notifications/history", params={"limit": 20}, headers=headers
                )
                now = time.monotonic()
                for item in response.json()["items"]:
                    seen.setdefault(item["payload"]["content_id"], now)
                await asyncio.sleep(max(0.0, period - (now - started)))

        await asyncio.gather(*(poll(token) for token in tokens(users)))
    return seen


async def churn(
    server: Server,
    users: list[uuid.UUID],
    slots: int,
    lifetime: tuple[float, float],
    stop: asyncio.Event,
) -> dict[str, int]:
    """Keep `slots` streams open, each living a random `lifetime`, users drawn from `users`."""
    token_of = dict(zip(users, tokens(users), strict=True))
    counts = {"opened": 0, "refused_429": 0, "refused_other": 0}

    async def slot() -> None:
        while not stop.is_set():
            client = SSEClient("127.0.0.1", server.port, token_of[random.choice(users)])
            try:
                await client.connect()
                await asyncio.wait_for(client.ready.wait(), 30)
            except (OSError, TimeoutError):
                counts["refused_other"] += 1
                client.close()
                continue
            if client.status == 200:
                counts["opened"] += 1
            elif client.status == 429:  # this user already had MAX_STREAMS_PER_USER open
                counts["refused_429"] += 1
            else:
                counts["refused_other"] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), random.uniform(*lifetime))
            client.close()
            await client.closed

    await asyncio.gather(*(slot() for _ in range(slots)))
    return counts


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


def delivery_of(
    fleet: Fleet, committed: dict[uuid.UUID, tuple[uuid.UUID, float]]
) -> dict[str, Any]:
    """Of `committed` (request -> user, commit time): what each user's client got, once."""
    lost = duplicated = 0
    firsts: dict[uuid.UUID, dict[str, float]] = {}
    for user, client in fleet.by_user.items():
        seen: dict[str, float] = {}
        for _nid, content, at in client.received.notifications:
            if content in seen:
                duplicated += 1
            else:
                seen[content] = at
        firsts[user] = seen
    missing: list[dict[str, Any]] = []
    by_user = fleet.by_user
    for request_id, (user, commit_at) in committed.items():
        if str(request_id) not in firsts[user]:
            lost += 1
            client = by_user[user]
            missing.append(
                {
                    "request": str(request_id),
                    "user": str(user),
                    "committed_at": round(commit_at, 3),
                    "client_connects": client.connects,
                    "client_connected_at": client.connected_at,
                    "client_last_id": client.last_id,
                    "client_named": client.received.named[-5:],
                    "client_received": [
                        (nid, round(at, 3)) for nid, _c, at in client.received.notifications
                    ][-6:],
                }
            )
    return {
        "committed": len(committed),
        "lost": lost,
        "duplicated": duplicated,
        "firsts": firsts,
        "missing": missing[:20],
    }


async def notification_of(url: str, request_id: str) -> dict[str, Any] | None:
    """The notification row a completed request produced (id, created_at), for a loss report."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        row = await connection.fetchrow(
            "SELECT id, created_at::text FROM notifications WHERE content_request_id = $1",
            uuid.UUID(request_id),
        )
    finally:
        await connection.close()
    return None if row is None else dict(row)


async def sample_server(server: Server, minutes: float) -> list[dict[str, float]]:
    """Every 15 s for `minutes`: the server's RSS, streams, channels, tasks and frozen objects."""
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    while time.monotonic() - started < minutes * 60:
        await asyncio.sleep(15)
        metrics = await server.metrics()
        samples.append(
            {
                "t_s": round(time.monotonic() - started),
                "rss_mib": round(server.rss_kib() / 1024, 1),
                "streams": metrics["vividly_streams_open"],
                "channels": metrics["vividly_listen_channels"],
                "tasks": metrics["vividly_asyncio_tasks"],
                "gc_frozen": metrics["vividly_gc_frozen_objects"],
            }
        )
        print(samples[-1], flush=True)
    return samples


def growth(samples: list[dict[str, float]]) -> dict[str, float]:
    """RSS and frozen objects from minute 1 (after warm-up) to the last sample."""
    after_warmup = next(sample for sample in samples if sample["t_s"] >= 60)
    end = samples[-1]
    return {
        "rss_at_1_min_mib": after_warmup["rss_mib"],
        "rss_at_end_mib": end["rss_mib"],
        "rss_growth_pct": round(
            (end["rss_mib"] - after_warmup["rss_mib"]) / after_warmup["rss_mib"] * 100, 2
        ),
        "gc_frozen_at_1_min": after_warmup["gc_frozen"],
        "gc_frozen_at_end": end["gc_frozen"],
    }
