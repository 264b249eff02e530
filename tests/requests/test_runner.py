"""The worker against a real Postgres: end to end, races, crashes, shutdown, failures."""

from __future__ import annotations

import asyncio
import re
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from db.pool import create_pool
from service.requests import sql as requests_sql
from service.requests.pipeline import Job, Outcome, Progress, no_progress
from service.requests.runner import FAILURE_TEXT, Worker, WorkerConfig
from service.settings import Settings
from tests.support.server import Stream, open_stream, running_server, settings_for
from tests.support.waiting import until
from tests.support.worker import new_request, wait_for_status, worker_process

PROCESSING = re.compile(r"processing ([0-9a-f-]{36})")
FAST = {
    "pipeline_stage_seconds": 0.02,
    "pipeline_failure_rate": 0,
    "pipeline_clarification_rate": 0,
}


async def notifications_of(conn: asyncpg.Connection, request_id: uuid.UUID) -> list[str]:
    return [
        r["type"]
        for r in await conn.fetch(
            "SELECT type FROM notifications WHERE content_request_id = $1 ORDER BY id", request_id
        )
    ]


@asynccontextmanager
async def student_with_worker(
    settings: Settings,
) -> AsyncIterator[tuple[Stream, httpx.AsyncClient]]:
    """A server running a worker, and one student with an open stream and an API client."""
    user = uuid.uuid4()
    async with (
        running_server(settings, with_worker=True) as server,
        open_stream(server.base_url, server.token(user)) as stream,
        httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {server.token(user)}"}
        ) as client,
    ):
        await stream.next_data()
        yield stream, client


async def test_question_to_notification_end_to_end(database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, media_dir=tmp_path, **FAST)
    async with student_with_worker(settings) as (stream, client):
        created = (
            await client.post("/api/v1/content-requests", json={"question": "Why is ice slippery?"})
        ).json()
        [notification] = await stream.notifications(1, timeout=15)
        video = await client.get(notification["payload"]["video_url"])
        thumbnail = await client.get(notification["payload"]["thumbnail_url"])
    assert notification["type"] == "video_complete"
    assert notification["payload"]["content_id"] == created["id"]
    assert notification["payload"]["title"] == "Why is ice slippery"
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/webm"
    assert video.content[:4] == bytes.fromhex("1a45dfa3")
    assert thumbnail.headers["content-type"] == "image/png"  # raster: mail clients show no SVG
    assert thumbnail.content[:8] == b"\x89PNG\r\n\x1a\n"


async def test_failure_reaches_the_student_in_plain_words(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        database_url, media_dir=tmp_path, **{**FAST, "pipeline_failure_rate": 1}
    )
    async with student_with_worker(settings) as (stream, client):
        await client.post("/api/v1/content-requests", json={"question": "What is a black hole?"})
        [notification] = await stream.notifications(1, timeout=15)
    assert notification["type"] == "video_failed"
    assert notification["payload"]["title"] == "What is a black hole"
    assert notification["payload"]["error_message"] == FAILURE_TEXT


async def test_clarification_answered_then_completed(database_url: str, tmp_path: Path) -> None:
    settings = settings_for(
        database_url, media_dir=tmp_path, **{**FAST, "pipeline_clarification_rate": 1}
    )
    async with student_with_worker(settings) as (stream, client):
        created = (
            await client.post("/api/v1/content-requests", json={"question": "Explain tides"})
        ).json()
        [asked] = await stream.notifications(1, timeout=15)
        assert asked["type"] == "clarification_needed"
        assert "Explain tides" in asked["payload"]["question"]
        answer = await client.post(
            f"/api/v1/content-requests/{created['id']}/clarification",
            json={"answer": "for grade 6"},
        )
        assert answer.json()["status"] == "pending"
        [done] = await stream.notifications(1, timeout=15)
        final = (await client.get(f"/api/v1/content-requests/{created['id']}")).json()
    assert done["type"] == "video_complete"
    assert final["status"] == "completed"
    assert final["clarification_answer"] == "for grade 6"


# -- worker processes -------------------------------------------------------------------------


def processed_ids(log: Path) -> list[str]:
    return PROCESSING.findall(log.read_text())


async def wait_for_log(log: Path, pattern: str, timeout: float = 15) -> None:
    async def logged() -> bool:
        return pattern in log.read_text()

    await until(logged, f"{log.name} says {pattern!r}", timeout=timeout)


async def test_two_workers_never_take_the_same_request(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    requests = [await new_request(conn, f"question {i}") for i in range(60)]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    one_at_a_time = {**FAST, "worker_concurrency": 1}  # two processes are what is tested
    with (
        worker_process(database_url, logs[0], **one_at_a_time),
        worker_process(database_url, logs[1], **one_at_a_time),
    ):
        for request_id in requests:
            await wait_for_status(conn, request_id, "completed", timeout=60)
    first, second = (set(processed_ids(log)) for log in logs)
    assert first, "both workers should have taken work"
    assert second, "both workers should have taken work"
    assert not first & second
    assert first | second == {str(r) for r in requests}
    attempts = await conn.fetch(
        "SELECT attempts FROM content_requests WHERE id = ANY($1)", requests
    )
    assert {row["attempts"] for row in attempts} == {1}
    counts = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE content_request_id = ANY($1)", requests
    )
    assert counts == 60


async def test_a_killed_workers_request_is_taken_again(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    request_id = await new_request(conn)
    slow = {**FAST, "pipeline_stage_seconds": 5, "worker_lease_seconds": 1.5}
    with worker_process(database_url, tmp_path / "doomed.log", **slow) as doomed:
        await wait_for_log(tmp_path / "doomed.log", f"processing {request_id}")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    assert (
        await conn.fetchval("SELECT status FROM content_requests WHERE id = $1", request_id)
    ) == "processing"
    with worker_process(database_url, tmp_path / "rescuer.log", **FAST):
        row = await wait_for_status(conn, request_id, "completed", timeout=20)
    assert row["attempts"] == 2
    assert await notifications_of(conn, request_id) == ["video_complete"]


async def test_sigterm_lets_the_current_job_finish(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    request_id = await new_request(conn)
    log = tmp_path / "worker.log"
    with worker_process(database_url, log, **{**FAST, "pipeline_stage_seconds": 0.3}) as worker:
        await wait_for_log(log, f"processing {request_id}")
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 15) == 0
    row = await conn.fetchrow("SELECT status FROM content_requests WHERE id = $1", request_id)
    assert row["status"] == "completed"


async def test_sigterm_releases_a_job_that_outlasts_the_grace_period(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    request_id = await new_request(conn)
    log = tmp_path / "worker.log"
    settings = {**FAST, "pipeline_stage_seconds": 10, "worker_shutdown_grace_seconds": 0.2}
    with worker_process(database_url, log, **settings) as worker:
        await wait_for_log(log, f"processing {request_id}")
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 15) == 0
    row = await conn.fetchrow("SELECT * FROM content_requests WHERE id = $1", request_id)
    assert (row["status"], row["attempts"], row["claimed_by"]) == ("pending", 0, None)
    assert await notifications_of(conn, request_id) == []


# -- in-process workers with pipelines of our own -------------------------------------------


class Crashing:
    async def run(self, job: Job, progress: Progress = no_progress) -> Outcome:
        raise RuntimeError("model server returned garbage")


@asynccontextmanager
async def in_process_worker(database_url: str, pipeline: Crashing) -> AsyncIterator[Worker]:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    config = WorkerConfig(
        lease_seconds=5, poll_seconds=0.2, max_attempts=3, shutdown_grace_seconds=1
    )
    worker = Worker(database_url, pool, pipeline, config)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await task
        await pool.close()


async def test_a_crashing_pipeline_ends_in_failed_not_stuck(
    database_url: str, conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = await new_request(conn)
    async with in_process_worker(database_url, Crashing()):
        row = await wait_for_status(conn, request_id, "failed")
    # The student reads plain words; the internal error is in the log, with the request id.
    assert row["error_message"] == FAILURE_TEXT
    assert await notifications_of(conn, request_id) == ["video_failed"]
    [logged] = [r for r in caplog.records if r.exc_info and str(request_id) in r.getMessage()]
    assert logged.exc_info is not None
    assert "model server returned garbage" in str(logged.exc_info[1])


async def test_a_request_that_keeps_killing_workers_is_failed(
    database_url: str, conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = await new_request(conn)
    await conn.execute(
        "UPDATE content_requests SET status = 'processing', attempts = 3, claimed_by = 'dead',"
        " lease_expires_at = now() - interval '1 second' WHERE id = $1",
        request_id,
    )
    async with in_process_worker(database_url, Crashing()):
        row = await wait_for_status(conn, request_id, "failed")
    assert row["error_message"] == FAILURE_TEXT
    assert f"request {request_id} failed: gave up after 3 attempts" in caplog.text


async def test_answering_a_clarification_restores_the_attempt_budget(
    database_url: str, conn: asyncpg.Connection
) -> None:
    request_id = await new_request(conn)
    student = await conn.fetchval(
        "SELECT student_id FROM content_requests WHERE id = $1", request_id
    )
    await conn.execute(
        "UPDATE content_requests SET status = 'clarification_needed', attempts = 3 WHERE id = $1",
        request_id,
    )
    row = await conn.fetchrow(requests_sql.ANSWER_CLARIFICATION, request_id, student, "grade 7")
    assert (
        row["status"],
        await conn.fetchval("SELECT attempts FROM content_requests WHERE id = $1", request_id),
    ) == ("pending", 0)


async def test_claims_take_work_oldest_first_expired_leases_included(
    database_url: str, conn: asyncpg.Connection
) -> None:
    # One round (three students): the oldest first, whether pending or orphaned (migration 0008).
    await conn.execute("UPDATE content_requests SET status = 'failed' WHERE status <> 'failed'")
    older = await new_request(conn, "older")
    expired = await new_request(conn, "expired")
    await conn.execute(
        "UPDATE content_requests SET status = 'processing', claimed_by = 'dead',"
        " lease_expires_at = now() - interval '1 minute' WHERE id = $1",
        expired,
    )
    newer = await new_request(conn, "newer")
    claimed = [(await conn.fetchrow(requests_sql.CLAIM, "test-worker", 30))["id"] for _ in range(3)]
    assert claimed == [older, expired, newer]
    assert await conn.fetchrow(requests_sql.CLAIM, "test-worker", 30) is None
