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

    asyncpg's `add_listener` runs one LISTEN round trip per channel; we LISTEN in batches
    ourselves (`statements`) and take all notifications here instead of through per-channel
    callbacks.
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
    """`LISTEN`/`UNLISTEN` of many channels, a few hundred per simple-query round trip."""
    names = [f'{verb} "{channel_of(user)}"' for user in users]
    return ["; ".join(names[i : i + LISTEN_BATCH]) for i in range(0, len(names), LISTEN_BATCH)]
