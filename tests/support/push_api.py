"""Shared by the push endpoint tests: a VAPID pair, valid and broken subscriptions, stored rows."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from service.channels.push import keys
from tests.support.push_standin import Browser

PUBLIC, PRIVATE = keys.new_pair()


NOT_ON_CURVE = keys.b64url_encode(b"\x04" + b"\x01" * 64)


BAD = {
    "http, not https": ("endpoint", "http://fcm.googleapis.com/fcm/send/x"),
    "not a URL": ("endpoint", "fcm.googleapis.com/x"),
    "ftp": ("endpoint", "ftp://fcm.googleapis.com/x"),
    "private address": ("endpoint", "https://10.1.2.3/push"),
    "metadata address": ("endpoint", "https://169.254.169.254/latest"),
    "IPv6 unique local": ("endpoint", "https://[fd00::1]/push"),
    "IPv4-mapped private": ("endpoint", "https://[::ffff:192.168.0.1]/push"),
    # Global-looking IP literals: no push service uses one, and py_vapid cannot sign for them.
    "IPv6 global literal": ("endpoint", "https://[2606:4700:4700::1111]/x"),
    "IPv4 global literal": ("endpoint", "https://1.1.1.1/x"),
    "NAT64 of the metadata address": ("endpoint", "https://[64:ff9b::a9fe:a9fe]/x"),
    "internal name": ("endpoint", "https://push.internal/x"),
    "single-label name": ("endpoint", "https://intranet/x"),
    "another port": ("endpoint", "https://fcm.googleapis.com:8443/x"),
    "user info": ("endpoint", "https://user:pw@fcm.googleapis.com/x"),
    "spaces": ("endpoint", "https://fcm.googleapis.com/a b"),
    "too long": ("endpoint", "https://fcm.googleapis.com/" + "a" * 2100),
    "p256dh too short": ("p256dh", keys.b64url_encode(b"\x04" + b"\x01" * 10)),
    "p256dh not on the curve": ("p256dh", NOT_ON_CURVE),
    "p256dh not base64url": ("p256dh", "!" * 87),
    "p256dh standard base64": ("p256dh", "+/" * 43 + "A"),
    "auth too short": ("auth", keys.b64url_encode(b"\x01" * 8)),
    "auth too long": ("auth", "A" * 200),
    "auth missing": ("auth", None),
    "no keys": ("body", {"endpoint": "https://fcm.googleapis.com/fcm/send/x"}),
    "not an object": ("body", ["https://fcm.googleapis.com/fcm/send/x"]),
}


def valid(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc") -> dict[str, Any]:
    return Browser(endpoint).json()


async def stored(conn: asyncpg.Connection, endpoint: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM push_subscriptions WHERE endpoint = $1", endpoint
    )
    return row


def _with(path: str, value: Any) -> dict[str, Any]:
    body = valid(f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}")
    if path == "endpoint":
        body["endpoint"] = value
    elif path == "body":
        return value  # type: ignore[no-any-return]
    else:
        body["keys"][path] = value
    return body


async def _notification(conn: asyncpg.Connection, user: uuid.UUID) -> int:
    notification_id: int = await conn.fetchval(
        "INSERT INTO notifications (user_id, type, payload) VALUES ($1, 'video_complete', '{}')"
        " RETURNING id",
        user,
    )
    return notification_id


def _altered(token: str) -> str:
    notification, user, expires, mac = token.split(".")
    return f"{int(notification) + 1}.{user}.{expires}.{mac}"
