"""A served process shutting down with Web Push on: at SIGTERM the dispatcher stops claiming
(what becomes due is left to the other replicas), and the send in flight finishes within the
shutdown budget and is recorded `sent`, not left to be closed as failed when its lease ends."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg

from service.ops.shutdown import Shutdown, budget
from service.settings import Settings
from tests.support.push import notify, subscribe
from tests.support.push_standin import StandIn
from tests.support.server import running_server
from tests.support.waiting import until


async def state_of(conn: asyncpg.Connection, notification_id: int) -> str | None:
    state: str | None = await conn.fetchval(
        "SELECT state FROM push_deliveries WHERE notification_id = $1", notification_id
    )
    return state


async def test_sigterm_stops_claiming_and_records_the_send_in_flight(
    push_settings: Settings, standin: StandIn, conn: asyncpg.Connection
) -> None:
    settings = push_settings.model_copy(
        update={"shutdown_unready_seconds": 1.0, "shutdown_drain_seconds": 0.5}
    )
    before, after = uuid.uuid4(), uuid.uuid4()
    in_flight = await subscribe(conn, before, standin)
    later = await subscribe(conn, after, standin)
    standin.held[in_flight.path] = asyncio.Event()  # the push service answers when told
    async with running_server(settings) as server:
        sent = await notify(conn, before)  # due once no stream took it within the grace
        await standin.wait_for(in_flight.path, 1)  # its send is in flight
        shutdown: Shutdown = server.app.state.shutdown
        signalled = time.monotonic()
        server.server.should_exit = True  # what uvicorn's SIGTERM handler does
        await until(lambda: shutdown.started, "shutdown starts", timeout=5)
        left = await notify(conn, after)  # due shortly, while this replica stops
        standin.held[in_flight.path].set()
        await until(
            lambda: _is(state_of(conn, sent), "sent"), "the send in flight is recorded", timeout=5
        )
    stopped_after = time.monotonic() - signalled
    # It stayed up past the moment the later push fell due (PUSH_STREAM_GRACE_SECONDS, 0.3 s)...
    assert 1.0 <= stopped_after < budget(settings).total
    # ...and never claimed it: it is another replica's to send.
    assert standin.for_path(later.path) == []
    assert await state_of(conn, left) in (None, "pending")


async def _is(value: object, expected: str) -> bool:
    return bool(await value == expected)  # type: ignore[misc]
