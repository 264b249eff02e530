"""`POST /api/v1/content-requests/{id}/retry`: a failed request goes back to the queue."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from service.requests import sql as requests_sql
from tests.support.server import RunningServer

API = "/api/v1/content-requests"


def client(server: RunningServer, user: uuid.UUID) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.token(user)}"}
    )


async def failed_request(conn: asyncpg.Connection, user: uuid.UUID) -> uuid.UUID:
    """A request the worker failed (created pending, claimed, then failed, as it does)."""
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, question, status, attempts, claimed_by)"
        " VALUES ($1, 'Why is the sky blue?', 'processing', 3, 'w1') RETURNING id",
        user,
    )
    await conn.execute(
        "UPDATE content_requests SET status = 'failed', error_message = 'It went wrong',"
        " claimed_by = NULL WHERE id = $1",
        request_id,
    )
    return request_id


async def test_a_failed_request_goes_back_to_pending_and_a_worker_takes_it(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    request_id = await failed_request(conn, user)
    woken = asyncio.Event()
    await conn.add_listener("content_requests:pending", lambda *_: woken.set())

    async with client(server, user) as student:
        response = await student.post(f"{API}/{request_id}/retry")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["status"], body["error_message"]) == (str(request_id), "pending", None)
    assert body["question"] == "Why is the sky blue?"
    await asyncio.wait_for(woken.wait(), 2)  # the worker's wake-up, as for a new request

    # What a worker runs next claims it, with its attempts counted from zero again.
    claimed = await conn.fetchrow(requests_sql.CLAIM, "w2", 30)
    assert (claimed["id"], claimed["attempts"]) == (request_id, 1)

    # A new round: failing again notifies again (the first failure's notification stays one).
    await conn.execute(
        "UPDATE content_requests SET status = 'failed', error_message = 'Again' WHERE id = $1",
        request_id,
    )
    types = await conn.fetch(
        "SELECT type, payload->>'error_message' AS error FROM notifications"
        " WHERE content_request_id = $1 ORDER BY id",
        request_id,
    )
    assert [(row["type"], row["error"]) for row in types] == [
        ("video_failed", "It went wrong"),
        ("video_failed", "Again"),
    ]


async def test_only_a_failed_request_of_the_owner_is_retried(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    owner, other = uuid.uuid4(), uuid.uuid4()
    request_id = await failed_request(conn, owner)
    pending_id = await conn.fetchval(
        "INSERT INTO content_requests (student_id, question, status)"
        " VALUES ($1, 'q', 'completed') RETURNING id",
        owner,
    )
    async with client(server, other) as stranger:
        response = await stranger.post(f"{API}/{request_id}/retry")
        assert response.status_code == 404
        assert response.json() == {"detail": "content request not found"}
        missing = await stranger.post(f"{API}/{uuid.uuid4()}/retry")
        assert missing.status_code == 404
        assert missing.json() == response.json()  # someone else's id looks missing
    assert await conn.fetchval("SELECT status FROM content_requests WHERE id = $1", request_id) == (
        "failed"
    )

    async with client(server, owner) as student:
        done = await student.post(f"{API}/{pending_id}/retry")
        assert done.status_code == 409
        assert done.json() == {
            "detail": "the request is completed; only a failed request can be tried again"
        }
        assert (await student.post(f"{API}/{request_id}/retry")).status_code == 200
        twice = await student.post(f"{API}/{request_id}/retry")
        assert twice.status_code == 409
        assert "the request is pending" in twice.json()["detail"]
        bad = await student.post(f"{API}/not-a-uuid/retry")
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["path", "request_id"]
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        assert (await anonymous.post(f"{API}/{request_id}/retry")).status_code == 401
    rows = await conn.fetch(
        "SELECT status FROM content_requests WHERE student_id = $1 ORDER BY status", owner
    )
    assert [row["status"] for row in rows] == ["pending", "completed"]


async def test_a_retry_counts_in_the_cap_on_open_requests(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    request_id = await failed_request(conn, user)
    limit = server.settings.max_open_requests_per_student
    await conn.execute(
        "INSERT INTO content_requests (student_id, question)"
        " SELECT $1, 'Open question ' || n FROM generate_series(1, $2) AS n",
        user,
        limit,
    )
    async with client(server, user) as student:
        refused = await student.post(f"{API}/{request_id}/retry")
        assert refused.status_code == 429, refused.text
        assert refused.headers["retry-after"]
        assert "in progress" in refused.json()["detail"]
        assert (
            await conn.fetchval("SELECT status FROM content_requests WHERE id = $1", request_id)
            == "failed"
        )

        # One finished: the retry fits.
        await conn.execute(
            "UPDATE content_requests SET status = 'completed' WHERE id = ("
            " SELECT id FROM content_requests WHERE student_id = $1 AND status = 'pending'"
            " LIMIT 1)",
            user,
        )
        admitted = await student.post(f"{API}/{request_id}/retry")
        assert admitted.status_code == 200, admitted.text
