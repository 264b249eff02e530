"""Notification rows rendered once, as the JSON clients get and as the SSE frame streams send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from . import sse

PAYLOAD_FIELDS = (
    "content_id",
    "title",
    "video_url",
    "thumbnail_url",
    "duration_seconds",
    "error_message",
    "question",
)


@dataclass(frozen=True, slots=True)
class Event:
    """A rendered event, shared by every stream of its user.

    Notifications carry their id (streams skip ids they already sent); state changes don't.
    """

    id: int | None
    frame: bytes


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def notification_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """The client's view of a notification row: the seed's shape, plus `id` and `dismissed_at`
    (a replayed row may have been archived on another device meanwhile)."""
    payload = row["payload"]
    return {
        "id": row["id"],
        "type": row["type"],
        "user_id": str(row["user_id"]),
        "payload": {key: payload[key] for key in PAYLOAD_FIELDS if key in payload},
        "timestamp": _iso(row["created_at"]),
        "read_at": _iso(row["read_at"]),
        "dismissed_at": _iso(row["dismissed_at"]),
    }


def read_state_event(message: Mapping[str, Any]) -> Event:
    """A read-state change (from the trigger's NOTIFY) as a named event without an id.

    Named, so clients that only handle `onmessage` ignore it; without an id, so it does not
    move the browser's Last-Event-ID.
    """
    data = {"type": "read_state", **{k: v for k, v in message.items() if k != "event"}}
    return Event(None, sse.frame(orjson.dumps(data), event="read_state"))


def notification_event(row: Mapping[str, Any]) -> Event:
    """A row as an SSE event carrying its id, so Last-Event-ID resumes after it."""
    return Event(row["id"], sse.frame(orjson.dumps(notification_json(row)), id=row["id"]))
