"""Push dispatch helpers: a subscribed browser on the stand-in push service, a notification."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from service.channels.push import sql as push_sql
from tests.support.push_standin import Browser, StandIn


async def subscribe(conn: asyncpg.Connection, user: uuid.UUID, standin: StandIn) -> Browser:
    browser = Browser(f"{standin.base_url}/push/{uuid.uuid4().hex}")
    data = browser.json()
    await conn.fetchrow(
        push_sql.PUSH_SUBSCRIBE,
        user,
        data["endpoint"],
        data["keys"]["p256dh"],
        data["keys"]["auth"],
    )
    return browser


async def notify(conn: asyncpg.Connection, user: uuid.UUID, *, age: float = 0, **set_: Any) -> int:
    """A committed notification for `user`, created `age` seconds ago, with columns `set_`."""
    notification_id: int = await conn.fetchval(
        "INSERT INTO notifications (user_id, type, payload, created_at)"
        " VALUES ($1, 'video_complete', $2, now() - make_interval(secs => $3)) RETURNING id",
        user,
        {"content_id": str(uuid.uuid4()), "title": "Photosynthesis", "video_url": "/media/v.webm"},
        age,
    )
    if set_:
        columns = ", ".join(f"{column} = ${i}" for i, column in enumerate(set_, start=2))
        await conn.execute(
            f"UPDATE notifications SET {columns} WHERE id = $1", notification_id, *set_.values()
        )
    return notification_id
