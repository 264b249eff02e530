"""`POST /notifications/seen` and `/{id}/opened`: the caller's rows only, idempotent, bad
input a 4xx, no read-state NOTIFY, counted in /metrics."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from db.pool import connect
from service.notifications import sql as notifications_sql
from tests.support.locks import backend_pid, until_blocked
from tests.support.metrics import value
from tests.support.server import RunningServer, complete
from tests.support.waiting import until

API = "/api/v1/notifications"


def client(server: RunningServer, user: uuid.UUID) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.base_url + API, headers={"Authorization": f"Bearer {server.token(user)}"}
    )


async def new_ids(conn: asyncpg.Connection, user: uuid.UUID, count: int) -> list[int]:
    for _ in range(count):
        await complete(conn, user)
    rows = await conn.fetch("SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user)
    return [row["id"] for row in rows]


async def marks(conn: asyncpg.Connection, id_: int) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT seen_at, opened_at, read_at, delivered_at FROM notifications WHERE id = $1", id_
    )
    return row


async def test_seen_marks_only_the_callers_unseen_rows_once(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    a1, a2 = await new_ids(conn, alice, 2)
    [b1] = await new_ids(conn, bob, 1)
    async with client(server, alice) as http:
        first = await http.post("/seen", json={"ids": [a1, a2, b1, a1]})
        assert first.status_code == 200, first.text
        assert first.json() == {"seen": 2}
        seen_at = (await marks(conn, a1))["seen_at"]
        again = await http.post("/seen", json={"ids": [a1]})
        assert again.json() == {"seen": 0}
    assert seen_at is not None
    assert (await marks(conn, a1))["seen_at"] == seen_at  # the first report is kept
    assert (await marks(conn, a1))["read_at"] is None  # seen is not read
    assert (await marks(conn, b1))["seen_at"] is None  # never another user's row


async def test_opened_sets_opened_and_seen_once_and_404s_for_another_user(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    a1, a2 = await new_ids(conn, alice, 2)
    [b1] = await new_ids(conn, bob, 1)
    async with client(server, alice) as http:
        await http.post("/seen", json={"ids": [a2]})
        seen_before = (await marks(conn, a2))["seen_at"]
        opened = await http.post(f"/{a1}/opened")
        assert opened.status_code == 200, opened.text
        body = opened.json()
        assert body["id"] == a1
        assert body["seen_at"] == body["opened_at"]
        repeat = await http.post(f"/{a1}/opened")
        assert repeat.json() == body  # idempotent: the first time is kept
        await http.post(f"/{a2}/opened")
        theirs = await http.post(f"/{b1}/opened")
        missing = await http.post(f"/{2**40}/opened")
    assert (await marks(conn, a2))["seen_at"] == seen_before  # seen earlier: kept
    assert (await marks(conn, a2))["opened_at"] is not None
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json() == {"detail": "notification not found"}
    assert (await marks(conn, b1))["opened_at"] is None
    assert (await marks(conn, b1))["seen_at"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"ids": []},
        {"ids": list(range(1, 102))},
        {"ids": ["x"]},
        {"ids": [0]},
        {"ids": [2**53]},
        {"ids": [1.5]},
        {"ids": 1},
        {"ids": [1], "extra": True},
        {},
        None,
        [1, 2],
    ],
)
async def test_bad_seen_bodies_are_a_422_and_change_nothing(
    server: RunningServer, conn: asyncpg.Connection, body: Any
) -> None:
    user = uuid.uuid4()
    [id_] = await new_ids(conn, user, 1)
    async with client(server, user) as http:
        response = await http.post("/seen", json=body)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)
    assert (await marks(conn, id_))["seen_at"] is None


@pytest.mark.parametrize("path", ["/0/opened", "/-1/opened", "/abc/opened", f"/{2**53}/opened"])
async def test_bad_opened_ids_are_a_422(server: RunningServer, path: str) -> None:
    async with client(server, uuid.uuid4()) as http:
        response = await http.post(path)
    assert response.status_code == 422, response.text


async def test_both_need_a_token(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url + API) as http:
        assert (await http.post("/seen", json={"ids": [1]})).status_code == 401
        assert (await http.post("/1/opened")).status_code == 401


async def test_seen_and_opened_send_no_read_state_and_are_counted(
    server: RunningServer, conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    a1, a2 = await new_ids(conn, user, 2)
    heard: list[dict[str, Any]] = []
    listener = await connect(database_url)
    await listener.add_listener(
        f"notifications:{user}", lambda *args: heard.append(json.loads(args[3]))
    )
    async with client(server, user) as http, httpx.AsyncClient(base_url=server.base_url) as ops:
        before = (await ops.get("/metrics")).text
        await http.post("/seen", json={"ids": [a1, a2]})
        await http.post(f"/{a1}/opened")
        await http.post(f"/{a1}/opened")  # a repeat is not counted
        after = (await ops.get("/metrics")).text
        await conn.execute("SELECT 1")
        await asyncio.sleep(0.2)
        assert heard == []
        await http.post(f"/{a1}/read")  # the listener does hear a read-state change
        await until(lambda: heard, "the read_state NOTIFY is heard")
    await listener.close()
    assert [m["event"] for m in heard] == ["read_state"]
    seen = "vividly_notifications_seen_total"
    opened = "vividly_notifications_opened_total"
    assert value(after, seen) - value(before, seen) == 2
    assert value(after, opened) - value(before, opened) == 1


async def test_two_opens_at_once_both_answer_200(
    server: RunningServer, conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    [id_] = await new_ids(conn, user, 1)
    other_tab = await connect(database_url)
    try:
        other_tab_pid = await backend_pid(other_tab)
        await other_tab.execute("BEGIN")
        first = await other_tab.fetchrow(notifications_sql.MARK_OPENED, id_, user)
        async with client(server, user) as http:
            second = asyncio.create_task(http.post(f"/{id_}/opened"))
            await until_blocked(
                conn, "the request waits for the other tab's row lock", behind=other_tab_pid
            )
            await other_tab.execute("COMMIT")
            response = await second
    finally:
        await other_tab.close()
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["opened_at"]) == first["opened_at"]
