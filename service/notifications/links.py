"""Where a notification leads, as an absolute URL for links that leave the service (pushes,
emails). The rule itself, which page of the app a notification is about, is
`live/subjects.py`'s `subject_of` (the live core renders its path into every notification as
`link`); it is re-exported here for the channels.

Guarantees:
- `notification_link` is `subject_of`'s path on this service (PUBLIC_URL), except for the
  ready video when VIDEO_LINK_TEMPLATE is set: that one goes to the customer's app. Only the
  ready video: a failed or waiting request has no video page, so it always leads to its
  request's page here (`/requests/<content_id>`), with its "Try again" or its question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..live.subjects import HOME_PATH, REQUEST_PATH, VIDEO_PATH, Subject, subject_of
from .settings import NotificationSettings

__all__ = [
    "HOME_PATH",
    "REQUEST_PATH",
    "VIDEO_PATH",
    "Subject",
    "absolute",
    "notification_link",
    "subject_of",
]


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
