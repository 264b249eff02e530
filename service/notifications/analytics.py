"""Delivery analytics for admins: the bounded query and what may be shown of its groups.

Guarantees:
- One analytics query at a time per process (`AnalyticsGate`): a request waits at most
  `QUEUE_SECONDS` for the one running, then gets `Busy` (the route answers 429). The query runs
  in its own transaction with `statement_timeout` = `ANALYTICS_TIMEOUT_SECONDS`; past it the
  database cancels it and `TooSlow` is raised (the route answers 503). Neither leaves anything
  behind (the transaction rolls back, the connection goes back to the pool).
- The window is whole hours (`hour_window`: from rounded down, to rounded up, so at least one
  hour), and a group of fewer than `ANALYTICS_MIN_GROUP` notifications shows no numbers
  (`suppress`), nor does a sibling that would let it be computed from its parent's. Together
  they stop one answer from isolating a student's notification; they do not stop differencing
  two answers (hours [h0, h2) minus [h1, h2)): admins are trusted with aggregates, and this is
  a guard against the casual case, not a privacy guarantee.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from . import sql

HOUR = timedelta(hours=1)
QUEUE_SECONDS = 1.0  # a second request waits this long for the running one, then 429
# The numbers hidden in a suppressed group (`created` too: it would isolate a student).
NUMBERS = (
    "created", "delivered", "delivery_rate", "time_to_deliver_p50_seconds",
    "time_to_deliver_p95_seconds", "seen", "seen_rate", "opened", "click_through",
)  # fmt: skip


class Busy(Exception):
    """Another analytics query is running in this process."""


class TooSlow(Exception):
    """The query ran past the statement timeout and was cancelled."""


def hour_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """[start, end) widened to whole hours (at least one)."""
    floor = start.replace(minute=0, second=0, microsecond=0)
    ceiling = end.replace(minute=0, second=0, microsecond=0)
    if ceiling < end:
        ceiling += HOUR
    return floor, max(ceiling, floor + HOUR)


class AnalyticsGate:
    """This process's one analytics query at a time, each under a statement timeout."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._one = asyncio.Semaphore(1)

    @asynccontextmanager
    async def _turn(self) -> Any:
        try:
            async with asyncio.timeout(QUEUE_SECONDS):
                await self._one.acquire()
        except TimeoutError:
            raise Busy from None
        try:
            yield
        finally:
            self._one.release()

    async def fetch(self, pool: asyncpg.Pool, query: str, *args: Any) -> list[Any]:
        """The rows of `query` (an analytics query: DELIVERY_ANALYTICS, a variant count)."""
        async with self._turn(), pool.acquire() as connection, connection.transaction():
            await connection.execute(
                sql.SET_LOCAL_STATEMENT_TIMEOUT, f"{round(self._timeout * 1000)}ms"
            )
            try:
                rows: list[Any] = await connection.fetch(query, *args)
            except asyncpg.QueryCanceledError:
                raise TooSlow from None
            return rows


def suppress(
    groups: Sequence[MutableMapping[str, Any]],
    minimum: int,
    *,
    parent_hidden: bool = False,
    numbers: Sequence[str] = NUMBERS,
) -> None:
    """Hide the numbers of siblings (the types of the window, or the channels of a type) with
    fewer than `minimum` notifications, and of the smallest others until the hidden ones hold
    at least `minimum` and are at least two (so none is their parent's minus the shown ones).
    All when their parent is hidden (they would add up to it). Each group gets `suppressed`; a
    hidden one has its `numbers` set to None."""
    hidden = [group for group in groups if parent_hidden or 0 < group["created"] < minimum]
    shown = sorted(
        (group for group in groups if not parent_hidden and group["created"] >= minimum),
        key=lambda g: g["created"],
    )
    while hidden and shown and (len(hidden) < 2 or sum(g["created"] for g in hidden) < minimum):
        hidden.append(shown.pop(0))
    hidden_ids = {id(group) for group in hidden}
    for group in groups:
        group["suppressed"] = id(group) in hidden_ids
        if group["suppressed"]:
            group.update(dict.fromkeys(numbers))
