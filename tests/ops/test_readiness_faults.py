"""Readiness means "this process can serve", proven by fault injection on a real Postgres: while
the database refuses new connections (a failover, `max_connections` reached) the listener
still hears, so `/readyz` stays 200 with warnings; an optional task restarting is a warning,
never a 503; the digest loop outlives database errors and sends once the database is back."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest

from db.pool import connect, create_pool
from db.urls import database_name
from service import app as app_module
from service.live.listener import APPLICATION_NAME, Listener
from service.ops import readiness
from service.runtime.supervisor import Supervisor
from service.settings import Settings
from tests.support.digest import digest_settings, digests_to, make_due, notify, subscribe
from tests.support.mailbox import Mailbox, smtp_server
from tests.support.readiness import metric, ready, until_ready
from tests.support.server import RunningServer, running_server, settings_for
from tests.support.waiting import until


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture(scope="module")
def server_settings(database_url: str, mailbox: Mailbox) -> Settings:
    # The digest on, looking at the database ten times a second: a refusal reaches it at once.
    return digest_settings(database_url, mailbox, digest_poll_seconds=0.1)


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        yield http


async def refuse_connections(admin: asyncpg.Connection, database_url: str) -> None:
    """The database takes no new connection and every one but the listener's is cut: what
    the writers' pool, the digest and the readiness query see during a failover."""
    name = database_name(database_url)
    await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = $1 AND application_name <> $2",
        name,
        APPLICATION_NAME,
    )


async def test_ready_with_warnings_while_the_database_refuses_and_the_digest_survives(
    server: RunningServer,
    client: httpx.AsyncClient,
    server_url: str,
    database_url: str,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await until_ready(client)
    admin = await connect(server_url)
    caplog.set_level(logging.WARNING, logger="service.digest.sender")
    try:
        await refuse_connections(admin, database_url)

        async def warned() -> dict[str, object] | None:
            body = await ready(client)
            found = [w for w in body.get("warnings", []) if w.startswith("database: unreachable")]
            return body if found else None

        body = await until(warned, "/readyz warns that the database is unreachable", timeout=10)
        assert body is not None
        await until(
            lambda: any("email digest: database error" in r.getMessage() for r in caplog.records),
            "the digest meets the refusal",
        )
        after = await client.get("/readyz")
    finally:
        name = database_name(database_url)
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
    assert body["status"] == "ready"
    assert after.status_code == 200, after.json()  # the digest did not crash into a backoff
    assert not any(w.startswith("task digest") for w in after.json().get("warnings", []))
    metrics = (await client.get("/metrics")).text
    assert 'vividly_task_crashes_total{task="digest"}' not in metrics
    assert metric(metrics, "vividly_listener_connected") == 1

    # The same digest task sends once the database is back.
    student = uuid.uuid4()
    address = f"s-{student.hex[:8]}@example.com"
    conn = await connect(database_url)
    try:
        await subscribe(conn, student, address)
        await notify(conn, student)
        await make_due(conn, student)
    finally:
        await conn.close()
    await until(lambda: digests_to(mailbox, address), "the digest is sent", timeout=10)
    await until_ready(client)


async def test_an_optional_task_restarting_is_a_warning_a_required_one_a_problem(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)

    async def probe(channel: str, payload: str) -> None:
        await pool.execute("SELECT pg_notify($1, $2)", channel, payload)

    listener = Listener(database_url, heartbeat=0.2, probe=probe)
    listener.start()
    supervisor = Supervisor(base_delay=30)  # a long backoff: the crash stays visible

    async def crash() -> None:
        raise ConnectionRefusedError("the database is away")

    try:
        await until(lambda: listener.receiving_problem() is None, "the listener hears")
        supervisor.start("digest", crash, optional=True)
        await until(supervisor.warnings, "the crash is reported")
        optional = await readiness.check(pool, listener, supervisor)
        supervisor.start("feed", crash)
        await until(supervisor.problems, "the crash is reported")
        required = await readiness.check(pool, listener, supervisor)
    finally:
        await supervisor.stop_all()
        await listener.stop()
        await pool.close()
    restarting = "crashed (ConnectionRefusedError: the database is away), restarting"
    assert optional.problems == []
    assert optional.warnings == [f"task digest: {restarting}"]
    assert required.problems == [f"task feed: {restarting}"]
    assert required.warnings == [f"task digest: {restarting}"]


async def test_a_served_process_stays_ready_while_an_optional_task_waits_out_its_backoff(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_retention(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in retention")

    monkeypatch.setattr(app_module, "prune_periodically", broken_retention)
    settings = settings_for(database_url, retention_days=30)
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        await until(lambda: server.listener.receiving_problem() is None, "the listener hears")
        warning = "task retention: crashed (RuntimeError: a bug in retention), restarting"

        async def warned() -> httpx.Response | None:
            response = await client.get("/readyz")
            return response if warning in response.json().get("warnings", []) else None

        response = await until(warned, "/readyz warns of the crash", timeout=10)
        metrics = (await client.get("/metrics")).text
    assert response is not None
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert metric(metrics, "vividly_task_restarting", '{optional="true",task="retention"}') == 1
