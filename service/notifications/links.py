"""Where a notification leads: one rule (`subject_of`), read by the page, the stream, Web Push
and the email digest.

Guarantees:
- A notification about a content request leads to that request's own page in the app: its
  video in the app's player when the payload carries one (`/videos/<content_id>`), else the
  request with its action, "Try again" or the clarifying question (`/requests/<content_id>`).
  Anything else leads to the app's home page (`/`). Nothing else is ever a destination: the
  path is built from the content id (quoted), never taken from the payload as a URL.
- Both paths are pages of this service (the app, index.html, routes it by its path); a
  signed-out student sees the sign-in form there and lands on the subject once signed in.
- `notification_link` is the absolute form, for links that leave the service (pushes, emails):
  the ready video on the customer's app when VIDEO_LINK_TEMPLATE is set (and only the ready
  video: a failed or waiting request has no video page), else the subject's page on this
  service (PUBLIC_URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

from .settings import NotificationSettings

VIDEO_PATH: Final = "/videos/{content_id}"
REQUEST_PATH: Final = "/requests/{content_id}"
HOME_PATH: Final = "/"

SubjectKind = Literal["video", "request", "home"]


@dataclass(frozen=True, slots=True)
class Subject:
    """What a notification is about, and the path of its page in the app."""

    kind: SubjectKind
    path: str
    content_id: str | None = None


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def subject_of(payload: Mapping[str, Any] | None) -> Subject:
    """The subject of a notification with this payload (the rule above)."""
    payload = payload or {}
    content_id = payload.get("content_id")
    if not _filled(content_id):
        return Subject("home", HOME_PATH)
    quoted = quote(str(content_id), safe="")
    if _filled(payload.get("video_url")):
        return Subject("video", VIDEO_PATH.format(content_id=quoted), str(content_id))
    return Subject("request", REQUEST_PATH.format(content_id=quoted), str(content_id))


def absolute(settings: NotificationSettings, path: str) -> str:
    """`path` (starting with /) on this service."""
    if not path.startswith("/"):
        raise ValueError(f"not a path on this service: {path!r}")
    return settings.base_url + path


def notification_link(settings: NotificationSettings, payload: Mapping[str, Any] | None) -> str:
    """Where clicking a notification with this payload takes the student, as an absolute URL."""
    subject = subject_of(payload)
    if subject.kind == "video" and settings.video_link_template is not None:
        return settings.video_link_template.format(
            content_id=quote(subject.content_id or "", safe="")
        )
    return absolute(settings, subject.path)
