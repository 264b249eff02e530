"""The listener's connection type and the channel names it LISTENs on.

Channel names are built only from validated UUIDs and always quoted as identifiers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

import asyncpg

CHANNEL_PREFIX = "notifications:"
LISTEN_BATCH = 500  # statements per simple-query round trip


class ListenerConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection that hands every NOTIFY to one callback.

    The one use of a private asyncpg method, for a measured reason: the public `add_listener`
    runs one `LISTEN` round trip per channel (and keeps a callback set per channel), and after
    every reconnect all followed users' channels must be LISTENed again before they can be
    caught up. `python -m bench.listen_cost` on this machine, 10,000 channels: `add_listener`
    4.76 s, batched `LISTEN` statements (`statements`) 0.29 s, 16x faster. asyncpg is pinned in
    `uv.lock`; `tests/live/test_topics.py` fails if the hook stops being called.
    """

    on_notification: Callable[[str, str], None] | None = None

    def _process_notification(self, pid: int, channel: str, payload: str) -> None:
        if self.on_notification is not None:
            self.on_notification(channel, payload)


def channel_of(user_id: uuid.UUID) -> str:
    """The NOTIFY channel of a user (the trigger's `'notifications:' || user_id`)."""
    return CHANNEL_PREFIX + str(user_id)


def user_of(channel: str) -> uuid.UUID:
    """The user a channel belongs to; ValueError for anything else."""
    if not channel.startswith(CHANNEL_PREFIX):
        raise ValueError(f"not a notifications channel: {channel!r}")
    return uuid.UUID(channel.removeprefix(CHANNEL_PREFIX))


def statements(verb: str, users: Iterable[uuid.UUID]) -> list[str]:
    """`LISTEN`/`UNLISTEN` of many users' channels, a few hundred per simple-query round trip."""
    return channel_statements(verb, (channel_of(user) for user in users))


def channel_statements(verb: str, channels: Iterable[str]) -> list[str]:
    """`LISTEN`/`UNLISTEN` of many channels (names this package made), batched likewise."""
    names = [f'{verb} "{channel}"' for channel in channels]
    return ["; ".join(names[i : i + LISTEN_BATCH]) for i in range(0, len(names), LISTEN_BATCH)]
