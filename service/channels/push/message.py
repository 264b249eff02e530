"""What a push carries: small JSON the service worker shows as it is (no lookup on arrival).

`{"id", "type", "title", "body", "link", "timestamp", "lang", "icon", "badge", "image"?,
"actions"?, "action"?}`: the title is `notifications/text.py`'s headline (what happened and what
it is about: "Your video is ready: Why is the sky blue?", "We need a bit more detail: How do
plants make food?", the request's title or question for a clarification), the body its lines
(the reason, the question asked, or a ready video's length and "Tap to watch"; never empty);
`link` is where a click goes (`notifications/links.py`: the ready video's player, or the
request's own page, where a failure's "Try again" and a question's answer are); `lang` the
language of the wording (`LANG`); `icon` and `badge` the app's icons (web/icons), `image` the
notification's thumbnail when it has one on this service or over HTTPS; `actions` its buttons
by type (`BUTTONS`: "Watch now" for a ready video, "Try again" for a failure, "Answer" for a
question), which the worker opens on the link (a request's with `?action=retry|answer`, whose
control the page focuses); `action` the token that marks it read and opened without a session
(`actions.py`).

Push services need accept only one 4096-byte aes128gcm record (RFC 8291): the plaintext is at
most `MAX_PLAINTEXT` bytes, leaving out the image, then cutting the body (then the title) until it
fits. A usual push is a fraction of that (under 1 KB: tests/channels/push/test_message.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ...live.events import rfc3339
from ...notifications.links import absolute, notification_link
from ...notifications.text import body_lines, headline, with_about
from .settings import PushSettings

MAX_BODY_CHARS = 500
MAX_TITLE_CHARS = 120
# 4096 bytes of record: minus its header (16 salt + 4 rs + 1 idlen + 65 key id), the AEAD tag
# (16) and the padding delimiter (1).
MAX_PLAINTEXT = 4096 - 86 - 16 - 1
LANG = "en"  # the labels and default wording are English
ICON = "/static/icons/icon-192.png"
BADGE = "/static/icons/badge-96.png"  # monochrome: Android's status bar shows its alpha
THUMBNAIL_KEY = "thumbnail_url"
# A type's buttons: (action, title). The worker maps each action to where it leads.
BUTTONS: dict[str, tuple[tuple[str, str], ...]] = {
    "video_complete": (("watch", "Watch now"),),
    "video_failed": (("retry", "Try again"),),
    "clarification_needed": (("answer", "Answer"),),
}


def text(type_name: str, label: str | None, payload: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body) of a notification (`payload` with what it is about: `with_about`)."""
    body = "\n".join(body_lines(label or type_name, payload))
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - 1] + "…"
    title = headline(label or type_name, payload)
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
    request_title: str | None = None,
    asked: str | None = None,
) -> bytes:
    """The push's plaintext (UTF-8 JSON), at most MAX_PLAINTEXT bytes; `request_title` and
    `asked` are its content request's title and question, when it has one (what a
    clarification is about)."""
    title, body = text(type_name, label, with_about(payload, request_title, asked))
    message: dict[str, Any] = {
        "id": notification_id,
        "type": type_name,
        "title": title,
        "body": body,
        "link": notification_link(settings, payload),
        "timestamp": rfc3339(created_at),
        "lang": LANG,
        "icon": absolute(settings, ICON),
        "badge": absolute(settings, BADGE),
    }
    image = thumbnail(settings, payload)
    if image is not None:
        message["image"] = image
    buttons = BUTTONS.get(type_name)
    if buttons:
        message["actions"] = [{"action": name, "title": title} for name, title in buttons]
    if action is not None:
        message["action"] = action
    data = _encode(message)
    if len(data) > MAX_PLAINTEXT:
        message.pop("image", None)
        data = _encode(message)
    for field in ("body", "title"):
        excess = len(data) - MAX_PLAINTEXT
        if excess > 0:
            message[field] = _cut(message[field], excess)
            data = _encode(message)
    if len(data) > MAX_PLAINTEXT:  # a link or type name alone too long: the sender refuses it
        raise ValueError(f"push message of {len(data)} bytes even with no title or body")
    return data


def thumbnail(settings: PushSettings, payload: Mapping[str, Any]) -> str | None:
    """The notification's thumbnail as an absolute URL: a path on this service, or HTTPS."""
    value = payload.get(THUMBNAIL_KEY)
    if not isinstance(value, str):
        return None
    if value.startswith("/") and not value.startswith("//"):
        return absolute(settings, value)
    return value if value.startswith("https://") else None


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
