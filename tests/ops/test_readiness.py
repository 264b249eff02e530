"""Liveness, readiness and metrics of a running server, and the offline API docs."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from db.pool import connect
from db.urls import database_name
from service.live.listener import APPLICATION_NAME
from service.runtime.supervisor import Supervisor
from tests.support.readiness import metric, ready, until_ready
from tests.support.server import RunningServer, complete, open_stream, running_server, settings_for
from tests.support.waiting import until


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        yield http


async def problems(client: httpx.AsyncClient) -> list[str]:
    """The readiness problems, once there are any (waits for them)."""

    async def found() -> list[str]:
        return list((await ready(client)).get("problems", []))

    result: list[str] = await until(found, "/readyz reports a problem", timeout=10)
    return result


async def warned(client: httpx.AsyncClient, warning: str, timeout: float = 10) -> dict[str, Any]:
    """The readiness body, once its warnings hold `warning` (waits for it)."""

    async def found() -> dict[str, Any] | None:
        body = await ready(client)
        return body if warning in body.get("warnings", []) else None

    result: dict[str, Any] | None = await until(
        found, f"/readyz warns {warning!r}", timeout=timeout
    )
    assert result is not None
    return result


async def test_ready_once_the_listener_hears_its_own_notify(client: httpx.AsyncClient) -> None:
    await until_ready(client)
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_healthz_makes_no_database_call(
    server: RunningServer, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await until_ready(client)
    pool = server.app.state.hub.source._store._pool

    def no_database(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionRefusedError("the database is gone")

    monkeypatch.setattr(type(pool), "acquire", no_database)  # slots: not on the instance
    health = await client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    # Still ready: the listener hears, so this process serves; the database is a warning.
    body = await warned(client, "database: unreachable (ConnectionRefusedError)")
    assert body["status"] == "ready"
    monkeypatch.undo()
    await until_ready(client)


async def test_not_ready_while_the_listener_is_cut_off_then_ready_again(
    server: RunningServer, client: httpx.AsyncClient, server_url: str, database_url: str
) -> None:
    await until_ready(client)
    name = database_name(database_url)
    admin = await connect(server_url)
    try:
        # Keep it from reconnecting long enough to be seen (reconnects take ~0.1 s).
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = $2",
                APPLICATION_NAME,
                name,
            )
            found = await problems(client)
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()
    assert any(problem.startswith("listener: not connected") for problem in found), found
    await until_ready(client, timeout=15)


async def test_not_ready_when_the_schema_is_behind(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    await until_ready(client)
    head = await conn.fetchval("SELECT version_num FROM alembic_version")
    await conn.execute("UPDATE alembic_version SET version_num = '0001'")
    try:
        found = await problems(client)
    finally:
        await conn.execute("UPDATE alembic_version SET version_num = $1", head)
    assert found == [f"schema: at 0001, this code needs {head} (run `vividly-notify migrate`)"]
    await until_ready(client)


async def test_ready_with_a_warning_when_a_newer_instance_migrated(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    # A rolling deploy: the new code migrated to a revision this code does not know.
    await until_ready(client)
    head = await conn.fetchval("SELECT version_num FROM alembic_version")
    await conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    try:
        response = await client.get("/readyz")
    finally:
        await conn.execute("UPDATE alembic_version SET version_num = $1", head)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "warnings": [f"schema: at 9999_from_the_future, newer than this code's head {head}"],
    }


async def test_a_listener_on_another_database_hears_nothing_and_says_so(
    database_url: str, server_url: str
) -> None:
    # LISTEN_DATABASE_URL on another database than the writers (as a hot standby or transaction
    # pooling would be): the connection is fine, but no NOTIFY of DATABASE_URL ever arrives.
    settings = settings_for(database_url, listen_database_url=server_url)
    async with (
        running_server(settings) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        await asyncio.sleep(0.3)  # a probe round trip, had it worked, takes milliseconds
        response = await client.get("/readyz")
        # nginx OSS and Docker's DNS do not route on /readyz: the process refuses streams itself.
        await until(lambda: server.hub.suspended is not None, "the hub is suspended", timeout=5)
        async with open_stream(server.base_url, server.token(uuid.uuid4())) as stream:
            assert stream.response.status_code == 200
            assert stream.response.headers["cache-control"] == "no-store, no-transform"
            refused = await stream.next()
        metrics = (await client.get("/metrics")).text
    assert response.status_code == 503
    [problem] = response.json()["problems"]
    assert problem.startswith("listener: connected, but has not heard its own NOTIFY yet")
    assert "vividly_listener_connected 1.0" in metrics
    assert refused.event == "unavailable"
    assert refused.retry == settings.sse_retry_ms
    assert metric(metrics, "vividly_streams_refused_total", '{reason="listener_deaf"}') == 1


async def test_a_listener_that_stops_hearing_its_probe_ends_streams_until_it_hears_again(
    server: RunningServer, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await until_ready(client)
    user = uuid.uuid4()
    async with open_stream(server.base_url, server.token(user)) as stream:
        assert (await stream.next()).event == "connected"

        async def lost(_channel: str, _payload: str) -> None:
            return None  # sent, but never reaches the listener (as through a broken pooler)

        monkeypatch.setattr(server.listener, "_probe", lost)
        found = await problems(client)
        await asyncio.wait_for(stream.ended.wait(), 5)  # ended: its browser reconnects
    assert len(found) == 1
    assert re.fullmatch(
        r"listener: connected, but has not heard its own NOTIFY for [\d.]+ s.*", found[0]
    )
    async with open_stream(server.base_url, server.token(user)) as refused:
        assert (await refused.next()).event == "unavailable"
    monkeypatch.undo()
    await until_ready(client)
    await until(lambda: server.hub.suspended is None, "streams are admitted again", timeout=5)
    async with open_stream(server.base_url, server.token(user)) as again:
        assert (await again.next()).event == "connected"


async def test_a_crashed_background_task_is_a_problem_until_it_runs_again() -> None:
    supervisor = Supervisor(base_delay=0.2)
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("boom")
        await asyncio.Event().wait()

    supervisor.start("feed", flaky)
    try:
        await until(lambda: supervisor.problems(), "the crash is reported")
        assert supervisor.problems() == ["task feed: crashed (RuntimeError: boom), restarting"]
        await until(lambda: runs == 2 and not supervisor.problems(), "the task runs again")
    finally:
        await supervisor.stop_all()


async def test_metrics_count_live_and_replayed_deliveries(
    server: RunningServer, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    before = (await client.get("/metrics")).text
    async with open_stream(server.base_url, server.token(user)) as stream:
        await stream.next_data()  # connected
        await complete(conn, user)
        [live] = await stream.notifications(1)
    async with open_stream(server.base_url, server.token(user), last_event_id=live["id"] - 1) as s:
        await s.notifications(1)
    after = (await client.get("/metrics")).text
    delivered = "vividly_notifications_delivered_total"
    for path in ("live", "replayed"):
        label = f'{{path="{path}"}}'
        grown = metric(after, delivered, label) - metric(before, delivered, label)
        assert grown == 1, path
    latency = "vividly_notify_to_write_seconds_count"
    assert metric(after, latency) - metric(before, latency) == 1
    assert 0 <= metric(after, "vividly_notification_queue_usage") < 0.01


async def test_api_docs_work_offline(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)
        assert response.status_code == 200
        references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", response.text)
        references += re.findall(r"""url\s*:\s*["']([^"']+)["']""", response.text)
        assert references, page
        assert not [ref for ref in references if "//" in ref], (page, references)
        for ref in references:
            if ref.endswith((".js", ".css", ".png")):
                assert (await client.get(ref)).status_code == 200, ref
        assert re.search(r"https?://", response.text) is None, page
