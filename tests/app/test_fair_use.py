"""One student cannot take more than a fair share: the open-request cap (asking, answering,
retrying) and the process-wide stream cap."""

from __future__ import annotations

import asyncio
import uuid
from typing import cast

import asyncpg
import httpx

from service.requests.routes import Refused, admit_retry
from tests.support.hardening import (
    MAX_STREAMS,
    METRICS_TOKEN,
    OPEN_CAP,
    REQUESTS,
    STREAM,
    bearer,
    metric,
)
from tests.support.server import (
    RunningServer,
    open_stream,
)


async def test_a_student_past_the_open_request_cap_gets_429(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    student, other = uuid.uuid4(), uuid.uuid4()
    asked = await asyncio.gather(
        *(
            client.post(
                REQUESTS, json={"question": f"Question {i}"}, headers=bearer(server, student)
            )
            for i in range(OPEN_CAP + 4)
        )
    )
    statuses = sorted(response.status_code for response in asked)
    assert statuses == [201] * OPEN_CAP + [429] * 4  # concurrent asks never pass the cap
    refused = next(response for response in asked if response.status_code == 429)
    assert int(refused.headers["retry-after"]) > 0
    assert f"at most {OPEN_CAP}" in refused.json()["detail"]
    listed = await client.get(REQUESTS, headers=bearer(server, student))
    assert len(listed.json()["items"]) == OPEN_CAP
    # Another student is not affected.
    theirs = await client.post(REQUESTS, json={"question": "Mine"}, headers=bearer(server, other))
    assert theirs.status_code == 201


async def test_streams_past_max_streams_are_told_to_come_back(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    metrics_auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    refused = 'reason="global_limit"'
    before = metric((await client.get("/metrics", headers=metrics_auth)).text,
                    "vividly_streams_refused_total", refused)  # fmt: skip
    users = [uuid.uuid4() for _ in range(MAX_STREAMS)]
    async with (
        open_stream(server.base_url, server.token(users[0])) as first,
        open_stream(server.base_url, server.token(users[1])) as second,
        open_stream(server.base_url, server.token(users[2])) as third,
        open_stream(server.base_url, server.token(users[3])) as fourth,
    ):
        for stream in (first, second, third, fourth):
            assert (await stream.next()).event == "connected"
        response = await client.get(STREAM, headers=bearer(server))
        text = (await client.get("/metrics", headers=metrics_auth)).text
    assert response.status_code == 200  # EventSource would give up for good on anything else
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: unavailable" in response.text
    assert f"retry: {server.settings.sse_retry_ms}" in response.text
    assert "maximum of 4 streams" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"  # like every other answer
    assert metric(text, "vividly_streams_refused_total", refused) == before + 1
    # Without a token: refused, and counted as auth.
    unauthenticated = await client.get(STREAM)
    assert unauthenticated.status_code == 401
    after = (await client.get("/metrics", headers=metrics_auth)).text
    assert metric(after, "vividly_streams_refused_total", 'reason="auth"') == (
        metric(text, "vividly_streams_refused_total", 'reason="auth"') + 1
    )


async def test_answering_a_clarification_respects_the_open_request_cap(
    server: RunningServer, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    student = bearer(server)
    first = await client.post(REQUESTS, json={"question": "Which grade?"}, headers=student)
    asking = uuid.UUID(first.json()["id"])
    await conn.execute(
        "UPDATE content_requests SET status = 'clarification_needed',"
        " clarification_question = 'Which grade?' WHERE id = $1",
        asking,
    )
    for i in range(OPEN_CAP):  # the cap is full again
        asked = await client.post(REQUESTS, json={"question": f"More {i}"}, headers=student)
        assert asked.status_code == 201
    answer = await client.post(
        f"{REQUESTS}/{asking}/clarification", json={"answer": "grade 7"}, headers=student
    )
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["retry-after"]) > 0
    row = await conn.fetchrow(
        "SELECT status, clarification_answer FROM content_requests WHERE id = $1", asking
    )
    assert (row["status"], row["clarification_answer"]) == ("clarification_needed", None)


async def test_a_retry_whose_request_is_deleted_meanwhile_is_404(
    server: RunningServer, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    asked = await client.post(REQUESTS, json={"question": "Gone?"}, headers=bearer(server, student))
    request_id = uuid.UUID(asked.json()["id"])
    await conn.execute("UPDATE content_requests SET status = 'failed' WHERE id = $1", request_id)
    pool = await asyncpg.create_pool(server.settings.database_url, min_size=1, max_size=1)

    class PruneAfterFirstLook:  # the pool as admit_retry sees it, with a prune in between
        looks = 0

        def acquire(self) -> object:
            return pool.acquire()

        async def fetchrow(self, *args: object) -> asyncpg.Record | None:
            row = await pool.fetchrow(*args)
            if self.looks == 0:
                await conn.execute("DELETE FROM content_requests WHERE id = $1", request_id)
            self.looks += 1
            return row

    try:
        pruned = cast(asyncpg.Pool, PruneAfterFirstLook())
        refused = await admit_retry(pruned, request_id, student, 3)
    finally:
        await pool.close()
    assert refused == Refused(404, "content request not found")
