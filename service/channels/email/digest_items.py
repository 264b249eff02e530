"""One notification as a row of the email digest: what it says, its one action, its thumbnail.

Guarantees:
- The wording is `notifications/text.py`'s (heading, detail lines); what the row adds is the
  notification's title and the student's own question (their content request's, when the digest
  query found it) and, for the subject line, a short phrase per kind (`SUBJECT_PHRASES`).
- The action follows `notifications/links.py`'s subject: "Watch" a ready video, "Answer" a
  clarifying question (type `clarification_needed`), "Try again" any other request (a failure),
  "Open" the app for anything else. The link itself is the digest's signed open link.
- The thumbnail is an absolute URL of a raster image (PNG, JPEG, GIF, WebP: mail clients do not
  show SVG) on this service (PUBLIC_URL) or over HTTPS; anything else gets no image, and the
  template draws a placeholder by action instead (never a broken image).
- Every text a student or the pipeline wrote is folded to one line and shortened (`one_line`):
  control characters and line breaks become spaces.
- When a notification came is said as a date and time (`when`), never relative to the moment
  of sending ("2 hours ago" would be wrong by the time it is read): in the student's time zone
  (stored with the preference, an IANA name), or in UTC, labelled "UTC", when none is known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from ...notifications.links import absolute, subject_of
from ...notifications.settings import NotificationSettings
from ...notifications.text import about, detail_lines, heading, text_lines

MAX_TEXT = 200  # characters of a notification's text shown
MAX_TIME_ZONE = 64  # characters of an IANA time zone name (the column's CHECK too)
_FOLD = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")

Action = Literal["watch", "retry", "answer", "open"]
ACTION_LABELS: Final[dict[Action, str]] = {
    "watch": "Watch",
    "retry": "Try again",
    "answer": "Answer",
    "open": "Open",
}
CLARIFICATION_TYPE = "clarification_needed"
THUMBNAIL_KEY = "thumbnail_url"
RASTER = (".png", ".jpg", ".jpeg", ".gif", ".webp")
# What the subject line says of the newest notification, by action; `{title}` is quoted.
SUBJECT_PHRASES: Final[dict[Action, str]] = {
    "watch": "Your video on '{title}' is ready",
    "retry": "We couldn't make your video on '{title}'",
    "answer": "A question about '{title}'",
}


def one_line(text: str, limit: int = MAX_TEXT) -> str:
    """`text` on one line, control characters folded, at most `limit` characters."""
    folded = _FOLD.sub(" ", text).strip()
    return folded if len(folded) <= limit else folded[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Item:
    """One notification as the digest lists it."""

    label: str  # what happened, e.g. "Your video is ready" (`notifications.text.heading`)
    text: str | None  # its text (`notifications.text.text_lines`), on one line
    link: str  # the digest's open link for it
    created_at: datetime
    title: str | None = None  # what it is about (the payload's title, else the question)
    details: tuple[str, ...] = ()  # the text below the title: a reason, a clarifying question
    question: str | None = None  # what the student asked, when it says more than the title
    action: Action = "open"
    thumbnail: str | None = None  # absolute URL of a raster image, or None: a placeholder

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def headline(self) -> str:
        """What the subject line says of this item."""
        phrase = SUBJECT_PHRASES.get(self.action)
        if phrase is None or self.title is None:
            return one_line(self.label, 120)
        return phrase.format(title=one_line(self.title, 60))


def action_of(type_name: str | None, payload: Mapping[str, Any]) -> Action:
    """The row's one action (the rule above)."""
    kind = subject_of(payload).kind
    if kind == "video":
        return "watch"
    if kind == "request":
        return "answer" if type_name == CLARIFICATION_TYPE else "retry"
    return "open"


def thumbnail_of(settings: NotificationSettings, payload: Mapping[str, Any]) -> str | None:
    """The payload's thumbnail as an absolute URL of a raster image, or None (the rule above)."""
    value = payload.get(THUMBNAIL_KEY)
    if not isinstance(value, str) or not urlsplit(value).path.lower().endswith(RASTER):
        return None
    if value.startswith("/") and not value.startswith("//"):
        return absolute(settings, value)
    return value if value.startswith("https://") else None


def _filled(value: Any) -> str | None:
    return one_line(value) if isinstance(value, str) and value.strip() else None


def _says_more(question: str, title: str | None) -> bool:
    if title is None:
        return True
    key = one_line(question).rstrip("?.!…").casefold()
    return key != title.rstrip("?.!…").casefold()


def item_from_row(
    row: Mapping[str, Any], link: str, settings: NotificationSettings | None = None
) -> Item:
    """An `Item` from a DIGEST_CONTENT row, linking to `link` (its open link); with `settings`,
    its thumbnail too."""
    payload: Mapping[str, Any] = row["payload"]
    label = row["label"]
    asked = _filled(row.get("question"))
    title = _filled(about(payload, row.get("request_title"), row.get("question")))
    details = tuple(one_line(line) for line in detail_lines(label, payload))
    return Item(
        label=heading(label, payload),
        text=one_line(" — ".join(text_lines(payload))) or None,
        link=link,
        created_at=row["created_at"],
        title=title,
        details=tuple(line for line in details if line != title),
        question=asked if asked is not None and _says_more(asked, title) else None,
        action=action_of(row.get("type"), payload),
        thumbnail=thumbnail_of(settings, payload) if settings is not None else None,
    )


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone_name(name: str) -> str:
    """`name` when it is an IANA time zone this server knows (zoneinfo), else ValueError."""
    if name not in _known_zones():
        raise ValueError(f"unknown time zone {name[:MAX_TIME_ZONE]!r}: give an IANA name")
    return name


def zone_of(name: str | None) -> ZoneInfo | None:
    """The stored time zone `name` as a zone; None (UTC) when unset or no longer known."""
    return ZoneInfo(name) if name is not None and name in _known_zones() else None


def when(then: datetime, zone: ZoneInfo | None = None) -> str:
    """`then` as a date and time in `zone` ("Mon 7 Dec, 13:47"); in UTC, labelled so, when
    `zone` is None ("Mon 7 Dec, 13:47 UTC"). Absolute, so a digest read days later is right."""
    moment = then.astimezone(zone or UTC)
    said = f"{moment:%a} {moment.day} {moment:%b}, {moment:%H:%M}"
    return said if zone is not None else f"{said} UTC"
