"""Failures of the real containers under reconnecting streams through the proxy: a replica
killed, a rolling restart of all three, Postgres restarted. Each ends with every stream holding
every notification of its user exactly once (0 lost, 0 duplicated)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support.stack import (
    POSTGRES,
    REPLICAS,
    Completions,
    delivered,
    podman,
    readiness,
    reconnecting_streams,
    replica_metric,
    replica_ready,
)
from tests.support.waiting import until

pytestmark = pytest.mark.stack
STREAMS = 30


async def test_a_killed_replicas_clients_reconnect_to_the_others_and_replay() -> None:
    users = [uuid.uuid4() for _ in range(STREAMS)]
    streams = await reconnecting_streams(users)
    victim = REPLICAS[0]
    try:
        on_victim = await asyncio.to_thread(replica_metric, victim, "vividly_streams_open")
        assert on_victim >= 1
        completions = await Completions.open()
        for user in users:
            await completions.complete(user)
        await asyncio.to_thread(podman, "kill", victim)  # SIGKILL: no drain, no goodbye
        for _ in range(3):  # while its clients come back through the proxy
            for user in users:
                await completions.complete(user)
            await asyncio.sleep(0.5)
        await completions.close()
        await delivered(streams, users, timeout=30)
        reconnected = sum(stream.connects > 1 for stream in streams)
        assert reconnected >= on_victim, (reconnected, on_victim)
    finally:
        for stream in streams:
            stream.close()
        # Unlike Docker's, podman's `kill` counts as stopped by the user: `unless-stopped` does not
        # bring it back (a crash of its process does).
        await asyncio.to_thread(podman, "start", victim)
        await replica_ready(victim)


async def test_a_rolling_restart_under_steady_completions_loses_nothing() -> None:
    users = [uuid.uuid4() for _ in range(STREAMS)]
    streams = await reconnecting_streams(users)
    completions = await Completions.open()
    stop = asyncio.Event()

    async def steady() -> int:
        sent = 0
        while not stop.is_set():
            await completions.complete(users[sent % len(users)])
            sent += 1
            await asyncio.sleep(0.1)
        return sent

    producer = asyncio.create_task(steady())
    try:
        for name in REPLICAS:  # one at a time, each drained (SIGTERM) within its grace period
            await asyncio.to_thread(podman, "restart", "--time", "30", name)
            await replica_ready(name)
        stop.set()
        sent = await producer
        await completions.close()
        assert sent >= 100, sent
        await delivered(streams, users, timeout=30)
        assert sum(stream.connects > 1 for stream in streams) >= STREAMS // 2
    finally:
        stop.set()
        for stream in streams:
            stream.close()


async def test_a_postgres_restart_takes_readiness_away_and_back_and_streams_recover() -> None:
    users = [uuid.uuid4() for _ in range(10)]
    streams = await reconnecting_streams(users)
    try:
        completions = await Completions.open()
        for user in users:
            await completions.complete(user)
        await completions.close()
        await asyncio.to_thread(podman, "stop", "--time", "10", POSTGRES)
        await until(lambda: _is(503), "/readyz is 503", timeout=30, interval=0.2)
        await asyncio.to_thread(podman, "start", POSTGRES)
        await until(lambda: _is(200), "/readyz is 200 again", timeout=60, interval=0.5)
        completions = await Completions.open()
        for user in users:
            await completions.complete(user)
        await completions.close()
        await delivered(streams, users, timeout=30)
    finally:
        for stream in streams:
            stream.close()
        for name in REPLICAS:
            await replica_ready(name)


async def _is(status: int) -> bool:
    return await asyncio.to_thread(readiness, REPLICAS[0]) == status
