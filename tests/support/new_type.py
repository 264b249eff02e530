"""A notification type added the way a future migration adds one: SQL only, no other code.

The registry row gives the type its label and description; the database's own
notification-creating function (what a trigger of that migration would call) creates one.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

NAME = "course_update"
LABEL = "Your course changed"
DESCRIPTION = "A course you follow has new lessons."

ADD_TYPE = "INSERT INTO notification_types (name, label, description) VALUES ($1, $2, $3)"
CREATE_NOTIFICATION = "SELECT vividly_create_notification_v2($1, $2, NULL, NULL, $3)"


async def add_type(conn: asyncpg.Connection) -> None:
    """Register the new type (once per database: a module's database is its own)."""
    await conn.execute(ADD_TYPE, NAME, LABEL, DESCRIPTION)


async def notify(conn: asyncpg.Connection, user: uuid.UUID, payload: dict[str, Any]) -> int | None:
    """Commit a notification of the new type for `user`; its id, or None when muted."""
    new_id: int | None = await conn.fetchval(CREATE_NOTIFICATION, user, NAME, payload)
    return new_id
