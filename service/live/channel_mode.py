"""The channel mode: which channels the triggers NOTIFY and the listener LISTENs.

Per-user channels (`notifications:<user>`) are the default. On PostgreSQL <= 18 every listening
backend compares each queued notification with its LISTEN list one entry at a time, so their
cost grows with the streams open (bench/RESULTS.md, "Postgres CPU per 1,000 notifications").
Shard mode NOTIFYs one of a fixed number of channels (`notifications:shard:<k>`, k from a hash
of the user) with the user in the payload; every listener LISTENs all of them and keeps only its
own users' notifications. Guarantees:
- One truth, in the database: the one-row table `notify_channels` (migration 0022), read by
  the triggers' `vividly_notify_user_v1` on every NOTIFY and by the listener at every
  (re)connect. No process setting can disagree with it.
- A change (`set_mode`, or any UPDATE of that row) waits until every notifying transaction in
  flight has committed (each holds a shared advisory lock from its NOTIFY to its commit) and
  NOTIFYs `CONTROL_CHANNEL` in its own commit. So the queue holds every NOTIFY sent on the old
  channels before the control message and every one on the new channels after it, and only
  READ COMMITTED writers are covered (a REPEATABLE READ snapshot could still read the old mode).
- `heard` tells the user of a notification from its channel (per-user) or its payload (shard),
  whichever mode sent it, so both sets can be LISTENed while a listener switches.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from . import sql
from .topics import CHANNEL_PREFIX, channel_of, user_of

CONTROL_CHANNEL = "notifications:mode"  # every listener LISTENs it, in both modes
SHARD_PREFIX = "notifications:shard:"
MAX_SHARDS = 1024  # the table's CHECK


@dataclass(frozen=True, slots=True)
class ChannelMode:
    """Per-user channels (`shards` None) or `shards` shard channels."""

    shards: int | None = None

    def __str__(self) -> str:
        return "per-user" if self.shards is None else f"shards ({self.shards})"

    def fixed_channels(self) -> list[str]:
        """Channels LISTENed once per connection whoever is followed (the shards)."""
        return [] if self.shards is None else [f"{SHARD_PREFIX}{n}" for n in range(self.shards)]

    def user_channels(self, users: Iterable[uuid.UUID]) -> list[str]:
        """Channels LISTENed per followed user (none in shard mode)."""
        return [channel_of(user) for user in users] if self.shards is None else []

    def channels(self, users: Iterable[uuid.UUID]) -> list[str]:
        """Every channel a listener following `users` LISTENs in this mode."""
        return self.fixed_channels() + self.user_channels(users)


PER_USER = ChannelMode()


def heard(channel: str, payload: str) -> tuple[uuid.UUID, dict[str, Any]]:
    """The user a notification is for and its message; ValueError for anything else."""
    message = orjson.loads(payload)
    if not isinstance(message, dict):
        raise ValueError("not an object")
    if channel.startswith(SHARD_PREFIX):
        return uuid.UUID(str(message.pop("user"))), message
    if not channel.startswith(CHANNEL_PREFIX):
        raise ValueError(f"not a notifications channel: {channel!r}")
    return user_of(channel), message


async def read_mode(connection: asyncpg.Connection) -> ChannelMode:
    """The mode the triggers use now (per-user on a database not migrated to 0022: its
    triggers predate the modes)."""
    try:
        shards: int | None = await connection.fetchval(sql.CHANNEL_MODE)
    except asyncpg.UndefinedTableError:
        return PER_USER
    return ChannelMode(shards)


async def set_mode(
    connection: asyncpg.Connection, mode: ChannelMode, *, lock_timeout: float = 5.0
) -> ChannelMode:
    """Switch every trigger and listener to `mode`; return it once committed.

    Waits for the notifying transactions in flight (at most `lock_timeout` seconds, then
    `asyncpg.LockNotAvailableError` and nothing changed).
    """
    if mode.shards is not None and not 1 <= mode.shards <= MAX_SHARDS:
        raise ValueError(f"shards must be 1 to {MAX_SHARDS}")
    async with connection.transaction():
        await connection.execute(f"SET LOCAL lock_timeout = {int(lock_timeout * 1000)}")
        shards: int | None = await connection.fetchval(sql.SET_CHANNEL_MODE, mode.shards)
    return ChannelMode(shards)
