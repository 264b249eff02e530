"""Links that leave the service: in pushes and emails, where a relative URL means nothing.

Guarantees: every link is absolute and http(s); a notification's link opens its video (or, for a
notification without one, the page where the student acts on it), on the customer's app when
VIDEO_LINK_TEMPLATE is set, else on this service (PUBLIC_URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .settings import NotificationSettings


def absolute(settings: NotificationSettings, path: str) -> str:
    """`path` (starting with /) on this service."""
    if not path.startswith("/"):
        raise ValueError(f"not a path on this service: {path!r}")
    return settings.base_url + path


def notification_link(settings: NotificationSettings, payload: Mapping[str, Any]) -> str:
    """Where clicking a notification with this payload takes the student."""
    content_id = payload.get("content_id")
    if settings.video_link_template is not None and content_id is not None:
        return settings.video_link_template.format(content_id=quote(str(content_id), safe=""))
    video_url = payload.get("video_url")
    if isinstance(video_url, str) and video_url.startswith("/") and not video_url.startswith("//"):
        return absolute(settings, video_url)
    return absolute(settings, "/")
