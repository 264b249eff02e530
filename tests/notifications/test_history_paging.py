"""Property: walking history pages returns every item once, in order, while the inbox changes.

Between page requests, new notifications arrive and items are read, unread and archived.
Keyset paging on id means every notification that existed when the walk began is returned
exactly once (archived ones too, with include_dismissed), newer ones never slip in behind the
cursor, and each page's unread count is the table's count at that moment.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.notifications import sql as notifications_sql
from tests.support.server import RunningServer, complete

API = "/api/v1/notifications"

actions = st.lists(
    st.tuples(
        st.sampled_from(["insert", "read", "unread", "dismiss", "read_all"]),
        st.integers(min_value=0, max_value=1000),
    ),
    max_size=4,
)


async def apply(
    action: str,
    pick: int,
    user: uuid.UUID,
    ids: list[int],
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
) -> None:
    if action == "insert":
        await complete(conn, user)
        return
    target = ids[pick % len(ids)]
    if action == "read":
        await client.post(f"/{target}/read")
    elif action == "unread":
        await client.post(f"/{target}/unread")
    elif action == "dismiss":
        await client.delete(f"/{target}")
    else:
        await client.post("/read-all", json={"up_to_id": target})


@given(
    initial=st.integers(min_value=0, max_value=25),
    limit=st.integers(min_value=1, max_value=8),
    include_dismissed=st.booleans(),
    between_pages=st.lists(actions, max_size=8),
)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
async def test_walk_returns_each_item_once_in_order(
    server: RunningServer,
    conn: asyncpg.Connection,
    initial: int,
    limit: int,
    include_dismissed: bool,
    between_pages: list[list[tuple[str, int]]],
) -> None:
    user = uuid.uuid4()
    for _ in range(initial):
        await complete(conn, user)
    start_ids = [
        r["id"] for r in await conn.fetch("SELECT id FROM notifications WHERE user_id = $1", user)
    ]
    headers = {"Authorization": f"Bearer {server.token(user)}"}
    async with httpx.AsyncClient(base_url=server.base_url + API, headers=headers) as client:
        walked: list[int] = []
        params: dict[str, Any] = {"limit": limit, "include_dismissed": include_dismissed}
        page_number = 0
        while True:
            response = await client.get("/history", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["unread_count"] == await conn.fetchval(notifications_sql.UNREAD_COUNT, user)
            walked += [item["id"] for item in page["items"]]
            if page["next_before"] is None:
                break
            params["before"] = page["next_before"]
            if start_ids and page_number < len(between_pages):
                for action, pick in between_pages[page_number]:
                    await apply(action, pick, user, start_ids, client, conn)
            page_number += 1

    assert walked == sorted(set(walked), reverse=True), "duplicate or out of order"
    assert set(walked) <= set(start_ids), "an item created during the walk slipped in"
    if include_dismissed:
        assert sorted(walked) == sorted(start_ids)
    else:
        dismissed = {
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM notifications WHERE user_id = $1 AND dismissed_at IS NOT NULL", user
            )
        }
        assert set(start_ids) - dismissed <= set(walked)
