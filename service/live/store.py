"""Where the feed's rows come from: the store contract, and Postgres behind it.

`FeedStore` is the one way the live core reads the table (`rows_after`, "these users' rows
after these ids, in id order", and unread counts); `PostgresFeedStore` runs it on the pool with
a timeout, a unit test's fake stands in for it. `Bounds` says whether a cursor can be replayed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

from . import sql

MAX_ID = 2**63 - 1  # bigint: "no upper bound" in queries

Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Bounds:
    """What decides whether a user's cursor can be replayed."""

    pruned_through: int  # rows up to here may have been deleted by retention
    latest_id: int  # the user's newest notification

    def reset_reason(self, cursor: int) -> str | None:
        """Why `cursor` cannot be replayed, or None when it can."""
        if cursor < self.pruned_through:
            return "cursor_expired"
        if cursor > max(self.latest_id, self.pruned_through):
            return "cursor_unknown"  # not issued by this database
        return None

    @property
    def newest(self) -> int:
        return max(self.latest_id, self.pruned_through)


class FeedStore(Protocol):
    """Where rows come from: Postgres (`PostgresFeedStore`), or a fake in unit tests."""

    async def rows_after(
        self, cursors: Mapping[uuid.UUID, int], limit: int
    ) -> tuple[dict[uuid.UUID, Bounds], list[Row]]:
        """Each user's bounds, and up to `limit` rows per user above their cursor, by id."""
        ...

    async def unread_counts(self, users: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Each user's unread, non-archived count."""
        ...


class PostgresFeedStore:
    """`FeedStore` on the `notifications` table, through the pool."""

    def __init__(self, pool: asyncpg.Pool, *, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def rows_after(
        self, cursors: Mapping[uuid.UUID, int], limit: int
    ) -> tuple[dict[uuid.UUID, Bounds], list[Row]]:
        records = await self._pool.fetch(
            sql.NOTIFICATIONS_AFTER,
            list(cursors),
            list(cursors.values()),
            limit,
            timeout=self._timeout,
        )
        bounds: dict[uuid.UUID, Bounds] = {}
        rows: list[Row] = []
        for record in records:
            user = record["user_id"]
            if user not in bounds:
                bounds[user] = Bounds(record["pruned_through"], record["latest_id"])
            if record["id"] is not None:
                rows.append(record)
        return bounds, rows

    async def unread_counts(self, users: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        records = await self._pool.fetch(sql.UNREAD_COUNTS_MANY, list(users), timeout=self._timeout)
        return {record["user_id"]: record["unread_count"] for record in records}
