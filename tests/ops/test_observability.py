"""What an operator graphs and alerts on beyond streams: HTTP requests by route template, the
pool's saturation, push and digest backlog ages, and the worker's own `/metrics`."""

from __future__ import annotations

import asyncio
import math
import re
import uuid
from pathlib import Path

import asyncpg
import httpx
from prometheus_client import CollectorRegistry, generate_latest

from db.pool import create_pool
from service.channels.backlog import BacklogMetrics
from service.ops.pool_metrics import PoolCollector
from tests.support.metrics import value
from tests.support.ports import free_port
from tests.support.server import RunningServer, complete
from tests.support.waiting import until
from tests.support.worker import new_request, wait_for_status, worker_process

TOKEN = "worker-metrics-token-0123"


async def test_http_requests_are_counted_by_route_template_not_by_path(
    server: RunningServer,
) -> None:
    async def boom() -> None:
        raise RuntimeError("a handler that fails")

    server.app.add_api_route("/test-boom", boom)
    user = uuid.uuid4()
    headers = {"Authorization": f"Bearer {server.token(user)}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
        for _ in range(3):
            assert (await client.get("/api/v1/notifications/history")).status_code == 200
        for notification in (91_000_001, 91_000_002):
            await client.post(f"/api/v1/notifications/{notification}/read")
        assert (await client.get(f"/no-such-page-{uuid.uuid4().hex}")).status_code == 404
        assert (await client.get("/static/js/dom.js")).status_code == 200
        assert (await client.get("/test-boom")).status_code == 500
        text = (await client.get("/metrics")).text
    requests = "vividly_http_requests_total"
    ok = f'{requests}{{code="200",method="GET",route="/api/v1/notifications/history"}}'
    assert value(text, re.escape(ok)) == 3
    assert value(text, re.escape(f'{requests}{{code="500",method="GET",route="/test-boom"}}')) == 1
    assert value(text, re.escape(f'{requests}{{code="404",method="GET",route="unmatched"}}')) == 1
    assert value(text, re.escape(f'{requests}{{code="200",method="GET",route="/static"}}')) == 1
    read = [line for line in text.splitlines() if line.startswith(requests) and "/read" in line]
    assert len(read) == 1, read  # both ids in one series, by template
    assert 'route="/api/v1/notifications/{notification_id}/read"' in read[0]
    assert float(read[0].rpartition(" ")[2]) == 2
    assert "91000001" not in text
    assert "no-such-page" not in text
    duration = "vividly_http_request_duration_seconds_count"
    history = f'{duration}{{method="GET",route="/api/v1/notifications/history"}}'
    assert value(text, re.escape(history)) == 3
    assert value(text, re.escape('vividly_pool_max_size{pool="api"}')) == 10


async def test_pool_saturation_shows_connections_in_use_and_callers_waiting(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    registry = CollectorRegistry()
    registry.register(PoolCollector(pool, "api"))

    def gauge(name: str) -> float:
        found = registry.get_sample_value(name, {"pool": "api"})
        assert found is not None, name
        return found

    try:
        assert (gauge("vividly_pool_in_use"), gauge("vividly_pool_waiting")) == (0, 0)
        held = [await pool.acquire(), await pool.acquire()]
        waiter = asyncio.ensure_future(pool.acquire())
        await until(lambda: gauge("vividly_pool_waiting") == 1, "a caller waits")
        assert gauge("vividly_pool_in_use") == 2
        assert gauge("vividly_pool_size") == 2
        assert gauge("vividly_pool_max_size") == 2
        await pool.release(held.pop())
        held.append(await asyncio.wait_for(waiter, 5))
        assert (gauge("vividly_pool_in_use"), gauge("vividly_pool_waiting")) == (2, 0)
        for connection in held:
            await pool.release(connection)
        assert gauge("vividly_pool_in_use") == 0
    finally:
        pool.terminate()  # close() would wait for connections a failed assertion left held


async def test_push_and_digest_backlog_ages(database_url: str, conn: asyncpg.Connection) -> None:
    registry = CollectorRegistry()
    backlog = BacklogMetrics(registry, push=True, digest=True)
    pool = await create_pool(database_url, min_size=1, max_size=2)

    def age(name: str) -> float:
        found = registry.get_sample_value(name)
        assert found is not None, name
        return found

    try:
        await conn.execute("DELETE FROM push_deliveries; DELETE FROM email_digests")
        await backlog.refresh(pool)
        assert age("vividly_push_backlog_age_seconds") == 0
        assert age("vividly_digest_backlog_age_seconds") == 0
        user = uuid.uuid4()
        await complete(conn, user)
        notification = await conn.fetchval("SELECT id FROM notifications WHERE user_id = $1", user)
        subscription = await conn.fetchval(
            "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth)"
            " VALUES ($1, 'https://push.example/s', $2, $3) RETURNING id",
            user,
            "B" * 87,
            "A" * 22,
        )
        await conn.execute(
            "INSERT INTO push_deliveries (notification_id, subscription_id, next_attempt_at)"
            " VALUES ($1, $2, now() - interval '120 seconds')",
            notification,
            subscription,
        )
        await conn.execute(
            "INSERT INTO email_digests (user_id, next_attempt_at)"
            " VALUES ($1, now() - interval '45 seconds')",
            user,
        )
        await backlog.refresh(pool)
        assert 120 <= age("vividly_push_backlog_age_seconds") < 130
        assert 45 <= age("vividly_digest_backlog_age_seconds") < 55
        await conn.execute("UPDATE push_deliveries SET next_attempt_at = now() + interval '1 h'")
        await backlog.refresh(pool)
        assert age("vividly_push_backlog_age_seconds") == 0  # a retry waiting its turn is not late
    finally:
        await pool.close()
    await backlog.refresh(pool)  # the database does not answer: NaN, and the scrape still works
    assert math.isnan(age("vividly_push_backlog_age_seconds"))
    assert b"vividly_digest_backlog_age_seconds NaN" in generate_latest(registry)


def test_backlog_gauges_exist_only_for_features_that_are_on() -> None:
    registry = CollectorRegistry()
    BacklogMetrics(registry, push=False, digest=False)
    assert b"backlog" not in generate_latest(registry)


async def test_the_worker_serves_its_own_metrics(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    port = free_port()
    settings = {
        "worker_metrics_port": port,
        "metrics_token": TOKEN,
        "host": "127.0.0.1",
        "pipeline_stage_seconds": 0,
        "pipeline_failure_rate": 0,
        "pipeline_clarification_rate": 0,
    }
    with worker_process(database_url, tmp_path / "worker.log", **settings) as process:
        request = await new_request(conn, "metrics")
        await wait_for_status(conn, request, "completed", timeout=30)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def scraped() -> str:
                answer = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
                return answer.text if answer.status_code == 200 else ""

            text = await until(scraped, "the worker's /metrics answers", timeout=10)
            refused = await client.get("/metrics")
            elsewhere = await client.get("/readyz")
        process.terminate()
        assert process.wait(20) == 0
    assert refused.status_code == 401
    assert elsewhere.status_code == 404
    assert value(text, "vividly_worker_jobs_finished_total") >= 1
    assert value(text, re.escape('vividly_pool_max_size{pool="worker"}')) == 3
    assert value(text, "process_resident_memory_bytes") > 0
