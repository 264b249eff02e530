"""What the long benchmarks watch: polling clients, churn, the harness's own GC pauses, a
notification's delivery, and the server's resources sampled over time."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from typing import Any

import asyncpg

from db.urls import asyncpg_dsn

from .client_fleet import Recorded
from .harness import Server, tokens
from .scenarios import Fleet
from .sse_client import SSEClient


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


def delivery_of(
    fleet: Fleet | Recorded, committed: dict[uuid.UUID, tuple[uuid.UUID, float]]
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
