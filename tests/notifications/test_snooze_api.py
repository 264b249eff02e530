"""Snooze, restore and the Archived view over HTTP, on a real uvicorn and Postgres; a snoozed
notification comes back as a new one on a real SSE stream."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import pytest

from tests.support.api_client import Client
from tests.support.server import RunningServer, complete, open_stream


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def newest_id(conn: asyncpg.Connection, user: uuid.UUID) -> int:
    found: int = await conn.fetchval("SELECT max(id) FROM notifications WHERE user_id = $1", user)
    return found


async def test_a_snoozed_notification_comes_back_as_new_on_every_device(
    server: RunningServer, alice: Client, conn: asyncpg.Connection
) -> None:
    request = await complete(conn, alice.user, title="Volcanoes")
    old = await newest_id(conn, alice.user)
    token = server.token(alice.user)
    async with open_stream(server.base_url, token) as phone:
        await phone.next_data()  # connected
        snoozed = await alice.post(f"/{old}/snooze", {"until": later(2)})
        assert snoozed["id"] == old
        assert snoozed["dismissed_at"] is not None
        assert snoozed["snoozed_until"] is not None
        left = await phone.next()
        assert left.event == "read_state"
        assert left.json()["state"] == "dismissed"
        assert left.json()["unread_count"] == 0
        assert (await alice.get("/history"))["items"] == []
        [archived] = (await alice.get("/history", archived=True))["items"]
        assert archived["id"] == old
        assert archived["snoozed_until"] == snoozed["snoozed_until"]

        started = time.monotonic()
        [back] = await phone.notifications(1, timeout=5)
        assert time.monotonic() - started < 4
    assert back["id"] > old
    assert back["type"] == "video_complete"
    assert back["payload"]["title"] == "Volcanoes"
    assert back["payload"]["content_id"] == str(request)
    assert back["link"] == snoozed["link"] == f"/videos/{request}"  # the same subject's page
    assert (back["read_at"], back["dismissed_at"], back["snoozed_until"]) == (None, None, None)
    history = await alice.get("/history")
    assert [item["id"] for item in history["items"]] == [back["id"]]
    assert history["unread_count"] == 1
    assert (await alice.get("/history", archived=True))["items"] == []
    # A device that was offline meanwhile replays it from its cursor, as any new notification.
    async with open_stream(server.base_url, token, last_event_id=old) as laptop:
        [replayed] = await laptop.notifications(1)
    assert replayed == back
    # The old id is gone: one notification, not two.
    await alice.post(f"/{old}/restore", expect=404)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM notifications WHERE content_request_id = $1", request
        )
        == 1
    )


@pytest.mark.parametrize(
    "body",
    [
        {"until": "2030-01-01T10:00:00"},  # no offset
        {"until": "2000-01-01T10:00:00Z"},  # past
        {"until": "in a while"},
        {"until": 4102444800},  # a number, not RFC 3339
        {"until": "4102444800"},
        {"until": "2030-01-01"},
        {"until": None},
        {},
    ],
)
async def test_a_bad_until_is_422_naming_it_and_changes_nothing(
    alice: Client, conn: asyncpg.Connection, body: dict[str, Any]
) -> None:
    await complete(conn, alice.user)
    nid = await newest_id(conn, alice.user)
    answer = await alice.post(f"/{nid}/snooze", body, expect=422)
    assert [problem["loc"] for problem in answer["detail"]] == [["body", "until"]]
    row = await conn.fetchrow(
        "SELECT dismissed_at, snoozed_until FROM notifications WHERE id = $1", nid
    )
    assert tuple(row) == (None, None)


async def test_until_more_than_30_days_ahead_or_just_past_is_refused(
    alice: Client, conn: asyncpg.Connection
) -> None:
    await complete(conn, alice.user)
    nid = await newest_id(conn, alice.user)
    for until in (later(31 * 86400), later(-1)):
        answer = await alice.post(f"/{nid}/snooze", {"until": until}, expect=422)
        [problem] = answer["detail"]
        assert problem["loc"] == ["body", "until"]
    offset = (datetime.now(UTC) + timedelta(days=29)).astimezone(timezone(timedelta(hours=-5)))
    first = await alice.post(f"/{nid}/snooze", {"until": offset.isoformat()})
    assert first["snoozed_until"] == offset.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert await alice.post(f"/{nid}/snooze", {"until": offset.isoformat()}) == first  # idempotent


async def test_restore_undoes_archive_and_snooze_and_is_idempotent(
    server: RunningServer, alice: Client, conn: asyncpg.Connection
) -> None:
    for _ in range(2):
        await complete(conn, alice.user)
    newest = await newest_id(conn, alice.user)
    oldest = newest - 1
    await alice.post(f"/{oldest}/read")
    async with open_stream(server.base_url, server.token(alice.user)) as tab:
        await tab.next_data()
        archived = (await alice.http.delete(f"/{oldest}")).json()
        assert archived["dismissed_at"] is not None
        assert (await tab.next()).json()["state"] == "dismissed"
        restored = await alice.post(f"/{oldest}/restore")
        event = (await tab.next()).json()
        assert (event["state"], event["ids"], event["unread_count"]) == ("restored", [oldest], 1)
        assert restored["dismissed_at"] is None
        assert restored["read_at"] is not None  # back as it was: read
        assert await alice.post(f"/{oldest}/restore") == restored
        await tab.silent()  # nothing changed, nothing announced

        await alice.post(f"/{newest}/snooze", {"until": later(3600)})
        assert (await tab.next()).json()["state"] == "dismissed"
        back = await alice.post(f"/{newest}/restore")
        assert (back["dismissed_at"], back["snoozed_until"], back["read_at"]) == (None, None, None)
        assert (await tab.next()).json()["unread_count"] == 1
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM notifications WHERE user_id = $1 AND snoozed_until IS NOT NULL",
            alice.user,
        )
        == 0
    )


async def test_someone_elses_or_a_missing_id_is_the_same_404(
    alice: Client, conn: asyncpg.Connection
) -> None:
    bob = uuid.uuid4()
    await complete(conn, bob)
    bobs = await newest_id(conn, bob)
    await conn.execute("UPDATE notifications SET dismissed_at = now() WHERE id = $1", bobs)
    answers = []
    for nid in (bobs, bobs + 1_000_000):
        answers.append(await alice.post(f"/{nid}/restore", expect=404))
        answers.append(await alice.post(f"/{nid}/snooze", {"until": later(60)}, expect=404))
    assert answers == [{"detail": "notification not found"}] * 4
    row = await conn.fetchrow(
        "SELECT dismissed_at IS NOT NULL, snoozed_until FROM notifications WHERE id = $1", bobs
    )
    assert tuple(row) == (True, None)


async def test_the_archived_view_pages_only_archived_ones_newest_first(
    alice: Client, conn: asyncpg.Connection
) -> None:
    for _ in range(4):
        await complete(conn, alice.user)
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, error_message)"
        " VALUES ($1, 'failed', 'boom')",
        alice.user,
    )
    newest = await newest_id(conn, alice.user)
    ids = list(range(newest, newest - 5, -1))  # one user's ids here are consecutive
    failed, a, b, c, kept = ids
    for nid in (failed, a, c):
        await alice.http.delete(f"/{nid}")
    await alice.post(f"/{b}/snooze", {"until": later(3600)})

    first = await alice.get("/history", archived=True, limit=2)
    assert [item["id"] for item in first["items"]] == [failed, a]
    second = await alice.get("/history", archived=True, limit=2, before=first["next_before"])
    assert [item["id"] for item in second["items"]] == [b, c]
    assert second["next_before"] is None
    assert [item["snoozed_until"] is not None for item in second["items"]] == [True, False]
    assert first["unread_count"] == 1
    typed = await alice.get("/history", archived=True, type="video_failed")
    assert [item["id"] for item in typed["items"]] == [failed]
    assert [item["id"] for item in (await alice.get("/history"))["items"]] == [kept]
    everything = await alice.get("/history", include_dismissed=True)
    assert [item["id"] for item in everything["items"]] == ids
    assert (await alice.get("/history", archived=True, unread_only=True))["items"] == []
