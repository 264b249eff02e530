"""A request's stage (migration 0017): stored as the worker enters it, cleared when the request
leaves `processing`, NOTIFYed only while it is in flight, delivered as the stream's named
`progress` event (no `type`, no id, never a notification), and read back over the API."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.requests.pipeline import STAGES
from tests.support.server import RunningServer, Stream, open_stream, running_server, settings_for

CHANNEL_PREFIX = "notifications:"


async def _processing(conn: asyncpg.Connection, user: uuid.UUID) -> uuid.UUID:
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, question, status, claimed_by)"
        " VALUES ($1, 'Why is the sea salty?', 'processing', 'w') RETURNING id",
        user,
    )
    return request_id


async def _heard(conn: asyncpg.Connection, user: uuid.UUID) -> asyncio.Queue[dict[str, object]]:
    heard: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    await conn.add_listener(
        f"{CHANNEL_PREFIX}{user}", lambda *args: heard.put_nowait(json.loads(args[3]))
    )
    return heard


async def test_the_stage_notifies_in_flight_and_is_cleared_when_the_request_ends(
    database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    listening = await asyncpg.connect(database_url)
    try:
        heard = await _heard(listening, user)
        request_id = await _processing(conn, user)
        await conn.execute("UPDATE content_requests SET stage = 'script' WHERE id = $1", request_id)
        message = await asyncio.wait_for(heard.get(), 2)
        assert message == {
            "event": "progress",
            "content_id": str(request_id),
            "status": "processing",
            "stage": "script",
        }
        # The same stage again, or another column: nothing said.
        await conn.execute("UPDATE content_requests SET stage = 'script' WHERE id = $1", request_id)
        await conn.execute("UPDATE content_requests SET title = 'Salt' WHERE id = $1", request_id)
        # Released back to pending: the stage goes, and the student hears it went.
        await conn.execute(
            "UPDATE content_requests SET status = 'pending', claimed_by = NULL WHERE id = $1",
            request_id,
        )
        released = await asyncio.wait_for(heard.get(), 2)
        assert (released["status"], released["stage"]) == ("pending", None)
        # Finished: cleared, and only the notification is heard.
        await conn.execute(
            "UPDATE content_requests SET status = 'processing', stage = 'tts' WHERE id = $1",
            request_id,
        )
        assert (await asyncio.wait_for(heard.get(), 2))["stage"] == "tts"
        await conn.execute(
            "UPDATE content_requests SET status = 'completed', video_url = '/v' WHERE id = $1",
            request_id,
        )
        assert (await asyncio.wait_for(heard.get(), 2))["event"] == "notification"
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(heard.get(), 0.3)
    finally:
        await listening.close()
    stage = await conn.fetchval("SELECT stage FROM content_requests WHERE id = $1", request_id)
    assert stage is None
    # Written with another status, a stage is not kept; a bad name is refused.
    done = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, stage) VALUES ($1, 'failed', 'tts')"
        " RETURNING stage",
        user,
    )
    assert done is None
    in_flight = await _processing(conn, user)
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(
            "UPDATE content_requests SET stage = 'Robert''); DROP' WHERE id = $1", in_flight
        )


async def _progress(stream: Stream, timeout: float) -> list[tuple[str, dict[str, object]]]:
    """Named `progress` events and notifications until the first notification."""
    seen: list[tuple[str, dict[str, object]]] = []
    async with asyncio.timeout(timeout):
        while True:
            event = await stream.events.get()
            if event.event in ("progress", "message"):
                seen.append((event.event, json.loads(event.data)))
            if event.event == "message":
                return seen


async def test_a_worker_run_streams_each_stage_then_the_notification(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        database_url,
        media_dir=tmp_path,
        pipeline_stage_seconds=0.1,
        pipeline_failure_rate=0,
        pipeline_clarification_rate=0,
    )
    user = uuid.uuid4()
    async with running_server(settings, with_worker=True) as server:
        token = server.token(user)
        async with (
            open_stream(server.base_url, token) as stream,
            httpx.AsyncClient(
                base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}
            ) as client,
        ):
            await stream.next_data()
            created = await client.post(
                "/api/v1/content-requests", json={"question": "Why do cats purr?"}
            )
            seen = await _progress(stream, 15)
            after = await client.get(f"/api/v1/content-requests/{created.json()['id']}")
    stages = [data for name, data in seen if name == "progress"]
    assert [data["stage"] for data in stages] == list(STAGES)
    for data in stages:
        assert set(data) == {"content_id", "status", "stage"}  # never a `type`
        assert (data["content_id"], data["status"]) == (created.json()["id"], "processing")
    assert seen[-1][1]["type"] == "video_complete"
    assert (after.json()["status"], after.json()["stage"]) == ("completed", None)


async def test_the_api_lists_the_stage_and_a_reconnect_replays_no_progress(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    request_id = await _processing(conn, user)
    await conn.execute("UPDATE content_requests SET stage = 'rag' WHERE id = $1", request_id)
    token = server.token(user)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        listed = (await client.get("/api/v1/content-requests")).json()["items"]
    assert [(item["id"], item["stage"]) for item in listed] == [(str(request_id), "rag")]
    async with open_stream(server.base_url, token, last_event_id=0) as stream:
        assert (await stream.next()).event == "connected"
        await stream.silent(0.5)  # nothing replayed: the stage is the table's
