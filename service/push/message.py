"""What a push carries: small JSON the service worker shows as it is (no lookup on arrival).

`{"id", "type", "title", "body", "link", "timestamp"}`: the title is the type's label (its name
when it has none), the body the payload's title and, on a second line, its reason or question;
`link` is where a click goes (`service/links.py`). Push services accept about 4 KB of payload:
the body is cut to fit well below that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..events import rfc3339
from ..links import notification_link
from ..settings import Settings

MAX_BODY_CHARS = 500


def text(type_name: str, label: str | None, payload: Mapping[str, Any]) -> tuple[str, str]:
    """(title, body) of a notification."""
    lines = [
        str(payload[key]).strip()
        for key in ("title", "error_message", "question")
        if isinstance(payload.get(key), str) and payload[key].strip()
    ]
    body = "\n".join(lines)
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - 1] + "…"
    return (label or type_name), body


def render(
    settings: Settings,
    *,
    notification_id: int,
    type_name: str,
    label: str | None,
    payload: Mapping[str, Any],
    created_at: datetime,
) -> bytes:
    """The push's plaintext (UTF-8 JSON)."""
    title, body = text(type_name, label, payload)
    message = {
        "id": notification_id,
        "type": type_name,
        "title": title,
        "body": body,
        "link": notification_link(settings, payload),
        "timestamp": rfc3339(created_at),
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
