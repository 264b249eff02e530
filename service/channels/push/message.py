"""What a push carries: small JSON the service worker shows as it is (no lookup on arrival).

`{"id", "type", "title", "body", "link", "timestamp", "action"}`: the title and body are
`notifications/text.py`'s (the copy the notification was made with; else the type's label, and
its title with, on the next lines, its reason or question); `link` is where a click goes
(`notifications/links.py`); `action` the token that marks it read and opened without a session
(`actions.py`).

Push services need accept only one 4096-byte aes128gcm record (RFC 8291): the plaintext is at
most `MAX_PLAINTEXT` bytes, cutting the body (then the title) until it fits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...live.events import rfc3339
from ...notifications.links import notification_link
from ...notifications.text import heading, text_lines
from .settings import PushSettings

MAX_BODY_CHARS = 500
MAX_TITLE_CHARS = 120
# 4096 bytes of record: minus its header (16 salt + 4 rs + 1 idlen + 65 key id), the AEAD tag
# (16) and the padding delimiter (1).
MAX_PLAINTEXT = 4096 - 86 - 16 - 1


def text(type_name: str, label: str | None, payload: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body) of a notification."""
    body = "\n".join(text_lines(payload))
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - 1] + "…"
    title = heading(label or type_name, payload)
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1] + "…"
    return title, body


def render(
    settings: PushSettings,
    *,
    notification_id: int,
    type_name: str,
    label: str | None,
    payload: Mapping[str, Any],
    created_at: datetime,
    action: str | None = None,
) -> bytes:
    """The push's plaintext (UTF-8 JSON), at most MAX_PLAINTEXT bytes."""
    title, body = text(type_name, label, payload)
    message: dict[str, Any] = {
        "id": notification_id,
        "type": type_name,
        "title": title,
        "body": body,
        "link": notification_link(settings, payload),
        "timestamp": rfc3339(created_at),
    }
    if action is not None:
        message["action"] = action
    data = _encode(message)
    for field in ("body", "title"):
        excess = len(data) - MAX_PLAINTEXT
        if excess > 0:
            message[field] = _cut(message[field], excess)
            data = _encode(message)
    if len(data) > MAX_PLAINTEXT:  # a link or type name alone too long: the sender refuses it
        raise ValueError(f"push message of {len(data)} bytes even with no title or body")
    return data


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def _json_bytes(value: str) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def _cut(value: str, excess: int) -> str:
    """`value` shortened so that its JSON is at least `excess` bytes smaller (with an ellipsis)."""
    budget = _json_bytes(value) - excess - len("…".encode())
    while value and _json_bytes(value) > budget:
        # A character is at most 6 bytes of JSON (an escape): cut at least what is over by 6.
        value = value[: -max(1, (_json_bytes(value) - budget) // 6)]
    return value + "…" if value else ""
