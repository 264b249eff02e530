"""`vividly-notify serve` as real processes: several on one database, and prompt shutdown."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from service.http.auth import mint_token
from tests.support.processes import serve_process
from tests.support.server import complete, open_stream, settings_for


@pytest.fixture(scope="module")
def two_servers(database_url: str) -> Iterator[tuple[str, str]]:
    with serve_process(database_url) as (first, _), serve_process(database_url) as (second, _):
        yield first, second


def token(database_url: str, user: uuid.UUID) -> str:
    return mint_token(user, settings_for(database_url))


async def test_two_processes_each_deliver_to_their_own_clients(
    two_servers: tuple[str, str], database_url: str, conn: asyncpg.Connection
) -> None:
    first, second = two_servers
    alice, bob = uuid.uuid4(), uuid.uuid4()
    async with (
        open_stream(first, token(database_url, alice)) as alice_on_first,
        open_stream(second, token(database_url, alice)) as alice_on_second,
        open_stream(second, token(database_url, bob)) as bob_on_second,
    ):
        for stream in (alice_on_first, alice_on_second, bob_on_second):
            await stream.next_data()
        await complete(conn, alice)
        await complete(conn, bob)
        [a1] = await alice_on_first.notifications(1)
        [a2] = await alice_on_second.notifications(1)
        [b] = await bob_on_second.notifications(1)
        assert a1 == a2
        assert a1["user_id"] == str(alice)
        assert b["user_id"] == str(bob)
        await alice_on_first.silent()
        await alice_on_second.silent()


async def test_sigterm_drains_every_stream_within_the_budget_then_exits(
    database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    phases = {"SHUTDOWN_UNREADY_SECONDS": "0.5", "SHUTDOWN_DRAIN_SECONDS": "1"}
    with serve_process(database_url, env=phases) as (base, process):
        async with (
            open_stream(base, token(database_url, user)) as first,
            open_stream(base, token(database_url, user)) as second,
        ):
            await first.next_data()
            await second.next_data()
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(first.ended.wait(), 5)
            await asyncio.wait_for(second.ended.wait(), 5)
            ended_after = time.monotonic() - started
        exit_code = await asyncio.to_thread(process.wait, 10)
        exited_after = time.monotonic() - started
    assert 0.5 <= ended_after < 2.5  # not ready first, then drained within the drain period
    assert first.retry is not None  # each told when to come back
    assert second.retry is not None
    # Unready + drain + requests (5) + final (6): the budget of service/shutdown.py.
    assert exited_after < 0.5 + 1 + 5 + 6
    assert exit_code == 0


async def test_read_state_crosses_processes(
    two_servers: tuple[str, str], database_url: str, conn: asyncpg.Connection
) -> None:
    first, second = two_servers
    user = uuid.uuid4()
    await complete(conn, user)
    notification_id = await conn.fetchval("SELECT id FROM notifications WHERE user_id = $1", user)
    async with open_stream(second, token(database_url, user)) as on_second:
        await on_second.next_data()
        async with httpx.AsyncClient(base_url=first) as client:
            response = await client.post(
                f"/api/v1/notifications/{notification_id}/read",
                headers={"Authorization": f"Bearer {token(database_url, user)}"},
            )
        assert response.status_code == 200
        event = await on_second.next()
    assert event.event == "read_state"
    assert event.json()["ids"] == [notification_id]
    assert event.json()["unread_count"] == 0
