"""History, unread counts, read state and preferences over HTTP against a real Postgres."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest

from tests.support.api_client import Client
from tests.support.server import RunningServer, complete, open_stream


async def ids_of(conn: asyncpg.Connection, user: uuid.UUID) -> list[int]:
    return [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id DESC", user
        )
    ]


async def test_history_pages_newest_first_each_item_once(
    alice: Client, conn: asyncpg.Connection
) -> None:
    for _ in range(45):
        await complete(conn, alice.user)
    walked: list[int] = []
    page = await alice.get("/history", limit=20)
    sizes = []
    while True:
        sizes.append(len(page["items"]))
        walked += [item["id"] for item in page["items"]]
        assert page["unread_count"] == 45
        if page["next_before"] is None:
            break
        page = await alice.get("/history", limit=20, before=page["next_before"])
    assert sizes == [20, 20, 5]
    assert walked == await ids_of(conn, alice.user)
    item = page["items"][0]
    assert set(item) == {
        "id",
        "type",
        "user_id",
        "payload",
        "timestamp",
        "read_at",
        "dismissed_at",
        "snoozed_until",
        "link",
    }


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"before": 0}, "before"),
        ({"before": "x"}, "before"),
        ({"unread_only": "maybe"}, "unread_only"),
        ({"type": "Video Complete"}, "type"),
    ],
)
async def test_bad_history_parameters_are_422_naming_the_parameter(
    alice: Client, params: dict[str, Any], where: str
) -> None:
    response = await alice.http.get("/history", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", where]


async def test_filters_unread_type_and_dismissed(alice: Client, conn: asyncpg.Connection) -> None:
    first = await complete(conn, alice.user)
    failed = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, error_message)"
        " VALUES ($1, 'failed', 'boom') RETURNING id",
        alice.user,
    )
    await complete(conn, alice.user)
    newest, middle, oldest = await ids_of(conn, alice.user)
    await alice.post(f"/{oldest}/read")
    await alice.http.delete(f"/{newest}")

    assert [i["id"] for i in (await alice.get("/history"))["items"]] == [middle, oldest]
    assert [i["id"] for i in (await alice.get("/history", unread_only=True))["items"]] == [middle]
    by_type = await alice.get("/history", type="video_failed")
    assert [i["payload"]["content_id"] for i in by_type["items"]] == [str(failed)]
    everything = await alice.get("/history", include_dismissed=True)
    assert [i["id"] for i in everything["items"]] == [newest, middle, oldest]
    assert everything["items"][0]["dismissed_at"] is not None
    assert everything["unread_count"] == 1
    counts = await alice.get("/unread-count")
    assert counts == {"unread_count": 1, "by_type": {"video_failed": 1}}
    assert first  # the request itself is untouched by any of this
    assert len(await ids_of(conn, alice.user)) == 3  # archived, never deleted


async def test_read_and_unread_are_idempotent(alice: Client, conn: asyncpg.Connection) -> None:
    await complete(conn, alice.user)
    [nid] = await ids_of(conn, alice.user)
    first = await alice.post(f"/{nid}/read")
    again = await alice.post(f"/{nid}/read")
    assert first["read_at"] is not None
    assert again["read_at"] == first["read_at"]
    assert (await alice.get("/unread-count"))["unread_count"] == 0
    assert (await alice.post(f"/{nid}/unread"))["read_at"] is None
    assert (await alice.post(f"/{nid}/unread"))["read_at"] is None
    assert (await alice.get("/unread-count"))["unread_count"] == 1


async def test_someone_elses_or_a_missing_id_is_the_same_404(
    server: RunningServer, alice: Client, conn: asyncpg.Connection
) -> None:
    bob = uuid.uuid4()
    await complete(conn, bob)
    [bobs] = await ids_of(conn, bob)
    missing = bobs + 1_000_000
    answers = []
    for nid in (bobs, missing):
        for method, path in (
            ("POST", f"/{nid}/read"),
            ("POST", f"/{nid}/unread"),
            ("DELETE", f"/{nid}"),
        ):
            response = await alice.http.request(method, path)
            answers.append((response.status_code, response.json()))
    assert answers == [(404, {"detail": "notification not found"})] * 6
    row = await conn.fetchrow("SELECT read_at, dismissed_at FROM notifications WHERE id = $1", bobs)
    assert tuple(row) == (None, None)


async def test_read_all_respects_the_watermark(alice: Client, conn: asyncpg.Connection) -> None:
    for _ in range(3):
        await complete(conn, alice.user)
    seen = max(await ids_of(conn, alice.user))
    await complete(conn, alice.user)  # arrives while the user clicks
    result = await alice.post("/read-all", {"up_to_id": seen})
    assert result == {"updated": 3, "up_to_id": seen, "unread_count": 1}
    page = await alice.get("/history")
    assert [i["read_at"] is None for i in page["items"]] == [True, False, False, False]
    assert (await alice.post("/read-all"))["unread_count"] == 0


async def test_dismiss_all_with_watermark_archives_but_keeps_rows(
    alice: Client, conn: asyncpg.Connection
) -> None:
    for _ in range(3):
        await complete(conn, alice.user)
    newest = max(await ids_of(conn, alice.user))
    result = await alice.post("/dismiss-all", {"up_to_id": newest - 1})
    assert result["updated"] == 2
    assert [i["id"] for i in (await alice.get("/history"))["items"]] == [newest]
    assert len(await ids_of(conn, alice.user)) == 3


@pytest.mark.parametrize(
    "body", [{"up_to_id": 0}, {"up_to_id": "x"}, {"up_to": 5}, [1, 2]], ids=str
)
async def test_bad_watermark_is_422_and_changes_nothing(
    alice: Client, conn: asyncpg.Connection, body: Any
) -> None:
    await complete(conn, alice.user)
    response = await alice.http.post("/read-all", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert (await alice.get("/unread-count"))["unread_count"] == 1


async def test_preferences_mute_a_type_in_the_trigger(
    alice: Client, conn: asyncpg.Connection
) -> None:
    defaults = await alice.get("/preferences")
    assert defaults == {
        "in_app": {"clarification_needed": True, "video_complete": True, "video_failed": True}
    }
    response = await alice.http.put("/preferences", json={"in_app": {"video_complete": False}})
    assert response.status_code == 200
    assert response.json()["in_app"]["video_complete"] is False

    request_id = await complete(conn, alice.user)
    assert await ids_of(conn, alice.user) == []
    status = await conn.fetchval("SELECT status FROM content_requests WHERE id = $1", request_id)
    assert status == "completed"

    await alice.http.put("/preferences", json={"in_app": {"video_complete": True}})
    await complete(conn, alice.user)
    assert len(await ids_of(conn, alice.user)) == 1


@pytest.mark.parametrize(
    "body",
    [{"in_app": {"sms": True}}, {"in_app": {"video_complete": "sometimes"}}, {"mute": []}],
    ids=["unknown-type", "not-bool", "wrong-shape"],
)
async def test_bad_preferences_are_422_and_change_nothing(alice: Client, body: Any) -> None:
    response = await alice.http.put("/preferences", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert all((await alice.get("/preferences"))["in_app"].values())


async def test_read_state_reaches_every_stream_of_the_user_only(
    server: RunningServer, alice: Client, conn: asyncpg.Connection
) -> None:
    bob = uuid.uuid4()
    for _ in range(3):
        await complete(conn, alice.user)
    newest, _, oldest = await ids_of(conn, alice.user)
    async with (
        open_stream(server.base_url, server.token(alice.user)) as tab1,
        open_stream(server.base_url, server.token(alice.user)) as tab2,
        open_stream(server.base_url, server.token(bob)) as bobs,
    ):
        for stream in (tab1, tab2, bobs):
            await stream.next_data()
        await alice.post(f"/{oldest}/read")
        history = await alice.get("/history")
        for stream in (tab1, tab2):
            event = await stream.next()
            assert event.event == "read_state"
            assert event.id == str(newest)  # a read_state event does not move Last-Event-ID
            data = event.json()
            assert data["state"] == "read"
            assert data["ids"] == [oldest]
            assert data["unread_count"] == history["unread_count"] == 2
        await alice.post("/read-all", {"up_to_id": newest})
        bulk = (await tab1.next()).json()
        assert bulk["state"] == "read"
        assert bulk["up_to_id"] == newest
        assert bulk["unread_count"] == 0
        await alice.http.delete(f"/{newest}")
        assert (await tab2.next()).json()["state"] == "read"
        assert (await tab2.next()).json()["state"] == "dismissed"
        await bobs.silent()


async def test_concurrent_changes_end_with_the_true_unread_count(
    server: RunningServer, alice: Client, conn: asyncpg.Connection
) -> None:
    for _ in range(12):
        await complete(conn, alice.user)
    ids = await ids_of(conn, alice.user)
    async with open_stream(server.base_url, server.token(alice.user)) as stream:
        await stream.next_data()
        await asyncio.gather(*(alice.post(f"/{nid}/read") for nid in ids))
        events = [(await stream.next()).json() for _ in ids]
    final = (await alice.get("/history"))["unread_count"]
    assert final == 0
    # Committed one at a time under the user's lock: the counts step down to the truth.
    assert [e["unread_count"] for e in events] == list(range(11, -1, -1))


async def test_a_new_notification_type_needs_no_code_for_preferences(
    alice: Client, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "INSERT INTO notification_types (name, label, description)"
        " VALUES ('course_update', 'Course update', 'x')"
        " ON CONFLICT DO NOTHING"
    )
    try:
        preferences = await alice.get("/preferences")
        assert preferences["in_app"]["course_update"] is True
    finally:
        await conn.execute("DELETE FROM notification_types WHERE name = 'course_update'")


async def test_replayed_rows_say_when_they_were_archived(
    server: RunningServer, alice: Client, conn: asyncpg.Connection
) -> None:
    await complete(conn, alice.user)
    [nid] = await ids_of(conn, alice.user)
    await alice.http.delete(f"/{nid}")
    async with open_stream(server.base_url, server.token(alice.user), last_event_id=0) as stream:
        [replayed] = await stream.notifications(1)
    assert replayed["id"] == nid
    assert replayed["dismissed_at"] is not None


async def test_a_content_id_that_is_no_uuid_is_passed_on_and_leads_home(
    alice: Client, conn: asyncpg.Connection
) -> None:
    # A type added in SQL may name its subject with another id: history shows it as written
    # (it was a 500 for the whole history) and, having no request page, it leads home.
    await conn.execute(
        "SELECT vividly_create_notification_v2($1, 'video_complete', NULL, 1, $2)",
        alice.user,
        {"content_id": "lesson-42", "title": "Tides"},
    )
    [item, *_] = (await alice.get("/history"))["items"]
    assert (item["payload"]["content_id"], item["link"]) == ("lesson-42", "/")
