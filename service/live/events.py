"""The wire format: every JSON shape and SSE frame a client receives is rendered here, once.

Guarantees:
- A notification is an unnamed SSE message (`onmessage`) with `id:` and `data:` holding
  `id`, `type`, `user_id`, `payload`, `link`, `timestamp`, `read_at`, `dismissed_at`,
  `snoozed_until`: the same JSON as an item of `/history`. `link` is the path of its subject's
  page in the app (`subjects.py`), so no client derives where a notification leads.
- Every control message (`connected`, `read_state`, `progress`, `reset`, `auth_expired`,
  `unavailable`, `displaced`) is a *named* event, so it never reaches `onmessage` and can never
  be taken for a notification, whatever notification types are registered later. Its data has
  no `type` key.
- Timestamps are RFC 3339 in UTC with a `Z` suffix, everywhere (`rfc3339`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from . import sse
from .subjects import subject_of

KEEPALIVE: Final = sse.KEEPALIVE


@dataclass(frozen=True, slots=True)
class Event:
    """A rendered event, shared by every stream of its user.

    `id` is set on what moves a stream's position (a notification, a `reset`); a stream skips
    events at or below the last id it sent. State changes carry none. `heard_at` (monotonic) is
    when the NOTIFY that announced a live notification arrived, and `created_at` (epoch
    seconds) the notification's `created_at`, for the latency metrics.
    """

    id: int | None
    frame: bytes
    notification: bool = False
    heard_at: float | None = None
    created_at: float | None = None


def rfc3339(value: datetime | None) -> str | None:
    """`2026-11-26T10:00:00.123456Z`: UTC, `Z`, what JSON Schema's `date-time` accepts."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now() -> str:
    """The current time in the wire format."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def notification_json(row: Mapping[str, Any]) -> dict[str, Any]:
    """The client's view of a notification row: the seed's shape, plus `id`, `link` (where a
    click leads: its subject's page, `subjects.py`), `dismissed_at` (a replayed row may have
    been archived on another device meanwhile) and `snoozed_until` (set while it is archived
    until it comes back as a new one). The payload is passed on whole: it is what the type's
    SQL built, so a new type's fields need no code here."""
    return {
        "id": row["id"],
        "type": row["type"],
        "user_id": str(row["user_id"]),
        "payload": row["payload"],
        "link": subject_of(row["payload"]).path,
        "timestamp": rfc3339(row["created_at"]),
        "read_at": rfc3339(row["read_at"]),
        "dismissed_at": rfc3339(row["dismissed_at"]),
        "snoozed_until": rfc3339(row.get("snoozed_until")),
    }


def notification_event(row: Mapping[str, Any], heard_at: float | None = None) -> Event:
    """A row as an SSE message carrying its id, so Last-Event-ID resumes after it."""
    frame = sse.frame(orjson.dumps(notification_json(row)), id=row["id"])
    created = row["created_at"]
    created_at = created.timestamp() if isinstance(created, datetime) else None
    return Event(row["id"], frame, notification=True, heard_at=heard_at, created_at=created_at)


def read_state_event(message: Mapping[str, Any]) -> Event:
    """A read-state change (the trigger's NOTIFY, or a resync) as `event: read_state`.

    Without an id, so it does not move the browser's Last-Event-ID.
    """
    data = {key: value for key, value in message.items() if key not in ("event", "type")}
    return Event(None, sse.frame(orjson.dumps(data), event="read_state"))


def unread_count_event(unread_count: int) -> Event:
    """The user's current unread count, sent when changes may have been missed."""
    return read_state_event({"state": "sync", "unread_count": unread_count})


def reset_event(reason: str, latest_id: int) -> Event:
    """`event: reset`: the stream cannot replay from the client's cursor; it goes on from
    `latest_id`, and the client reloads history."""
    body = orjson.dumps({"reason": reason, "latest_id": latest_id})
    return Event(latest_id, sse.frame(body, id=latest_id, event="reset"))


def connected_frame(*, start_id: int | None, retry_ms: int) -> bytes:
    """The first frame of every stream: `retry:`, and for a live-only stream its starting
    point as `id:`, so a reconnect before any notification resumes from there."""
    return sse.frame(
        orjson.dumps({"timestamp": now()}), id=start_id, event="connected", retry=retry_ms
    )


def auth_expired_frame() -> bytes:
    """The last frame of a stream whose token expired."""
    return sse.frame(
        orjson.dumps({"reason": "token expired", "timestamp": now()}), event="auth_expired"
    )


def retry_frame(retry_ms: int) -> bytes:
    """`retry:` alone (a comment names it): sent right before the server ends a stream it
    drains, so each client comes back after its own delay."""
    return b": draining\nretry: " + str(retry_ms).encode() + b"\n\n"


def displaced_frame(retry_ms: int) -> bytes:
    """The last frame of a stream the user's newest one displaced (more than
    MAX_STREAMS_PER_USER open): why, and a long `retry:` for clients that do not know this
    event (ours waits for the student instead of displacing another device in turn)."""
    body = orjson.dumps(
        {"reason": "too_many_streams", "detail": "opened on a newer device", "timestamp": now()}
    )
    return sse.frame(body, event="displaced", retry=retry_ms)


def progress_event(message: Mapping[str, Any]) -> Event:
    """A content request's stage (the `content_requests` trigger's NOTIFY) as
    `event: progress` with `{"content_id", "status", "stage"}`. Without an id: it does not move
    Last-Event-ID and is never replayed (a reconnecting client reads the stage from the table)."""
    data = {key: message.get(key) for key in ("content_id", "status", "stage")}
    return Event(None, sse.frame(orjson.dumps(data), event="progress"))


def unavailable_frame(
    retry_ms: int, detail: str = "not connected to the database; retrying shortly"
) -> bytes:
    """The whole body of a stream refused for a while (no database connection, or the server
    is full): a 200 that ends, so EventSource comes back after `retry:` instead of giving up as
    on a 503. `retry_ms` is in the data too: a client that reconnects by itself (the package's
    does, and EventSource hides `retry:`) waits as long."""
    body = orjson.dumps({"detail": detail, "retry_ms": retry_ms})
    return sse.frame(body, event="unavailable", retry=retry_ms)
