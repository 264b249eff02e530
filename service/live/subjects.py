"""What a notification is about, and the path of its page in the app: the one rule, read by the
wire format (`events.py`: every notification carries it as `link`), Web Push and the email
digest (`notifications/links.py`, its absolute form).

Guarantees:
- A notification about a content request leads to that request's own page in the app: its
  video in the app's player when the payload carries one (`/videos/<content_id>`), else the
  request with its action, "Try again" or the clarifying question (`/requests/<content_id>`).
  Anything else (no content id, one that is not a UUID, a payload that is not an object) leads
  to the app's home page (`/`). Nothing else is ever a destination: the path is built from the
  content id (a UUID, canonical), never taken from the payload as a URL.
- Both paths are pages of this service (the app, web/index.html, routes them by path); a
  signed-out student sees the sign-in form there and lands on the subject once signed in.
- Pure: no settings, no I/O, so the live core can render it into every notification.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

VIDEO_PATH: Final = "/videos/{content_id}"
REQUEST_PATH: Final = "/requests/{content_id}"
HOME_PATH: Final = "/"
PREFERENCES_PATH: Final = "/preferences"  # the app with its notification preferences open

SubjectKind = Literal["video", "request", "home"]


@dataclass(frozen=True, slots=True)
class Subject:
    """What a notification is about, and the path of its page in the app."""

    kind: SubjectKind
    path: str
    content_id: str | None = None


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _request_id(value: Any) -> str | None:
    """`value` as a content request's id (a UUID, in its canonical spelling), else None: no
    request page exists for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def subject_of(payload: Any) -> Subject:
    """The subject of a notification with this payload (the rule above)."""
    if not isinstance(payload, Mapping):
        return Subject("home", HOME_PATH)
    content_id = _request_id(payload.get("content_id"))
    if content_id is None:
        return Subject("home", HOME_PATH)
    quoted = quote(content_id, safe="")
    if _filled(payload.get("video_url")):
        return Subject("video", VIDEO_PATH.format(content_id=quoted), content_id)
    return Subject("request", REQUEST_PATH.format(content_id=quoted), content_id)
