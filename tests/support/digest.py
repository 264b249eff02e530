"""Shared by the digest tests: settings for a loopback SMTP server, notifications by SQL."""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

from service.channels.email.message import CONFIRM_SUBJECT
from service.channels.email.open_links import OpenLinks
from service.channels.email.sender import DigestSender
from service.channels.email.signed_links import UnsubscribeLinks
from service.settings import Settings
from tests.support.mailbox import Mailbox
from tests.support.server import settings_for

# Short periods for tests; production keeps 1 h / 1 d / 1 week.
TEST_PERIODS = {"hourly": 1.5, "daily": 3.0, "weekly": 3600.0}
VIDEO_LINK = "https://app.example/watch/{content_id}"


def digest_settings(database_url: str, box: Mailbox, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": box.host,
        "smtp_port": box.port,
        "smtp_tls": "none",
        "smtp_timeout_seconds": 5,
        "email_from": "Vividly <digest@example.com>",
        "public_url": "https://notify.example",
        "video_link_template": VIDEO_LINK,
        "digest_period_seconds": TEST_PERIODS,
        "digest_min_age_seconds": 0,
        "digest_poll_seconds": 0.2,
        "digest_retry_base_seconds": 0.2,
        "digest_retry_max_seconds": 0.4,
    }
    values.update(overrides)
    return settings_for(database_url, **values)


async def notify(
    conn: asyncpg.Connection,
    user: uuid.UUID,
    type_: str = "video_complete",
    **payload: Any,
) -> tuple[int, uuid.UUID]:
    """Insert a committed notification for `user`; return its id and content id."""
    content_id = uuid.uuid4()
    body = {"content_id": str(content_id), "title": "Photosynthesis", **payload}
    if type_ == "video_complete":
        body.setdefault("video_url", f"/media/videos/{content_id}.webm")
    id_: int = await conn.fetchval(
        "INSERT INTO notifications (user_id, type, payload) VALUES ($1, $2, $3) RETURNING id",
        user,
        type_,
        body,  # the connection's codec encodes it
    )
    _TARGETS[id_] = link_of(content_id)
    return id_, content_id


def link_of(content_id: uuid.UUID) -> str:
    return VIDEO_LINK.format(content_id=content_id)


async def make_due(conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """Let `user`'s next digest be made now (as if their period had passed)."""
    await conn.execute(
        "UPDATE email_digest_preferences SET next_digest_at = now() WHERE user_id = $1", user
    )


class Links(HTMLParser):
    """Every href of an HTML document, and its text without tags."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(document: str) -> Links:
    parser = Links()
    parser.feed(document)
    return parser


def plain(message: EmailMessage) -> str:
    """The plain-text body of a digest."""
    part = message.get_body(("plain",))
    assert part is not None
    text: str = part.get_content()
    return text


OPEN_LINK = r"https://notify\.example/api/v1/digest/open\?token=[A-Za-z0-9_.-]+"
# Where each notification `notify` made leads (its video): what a digest's open link names.
_TARGETS: dict[int, str] = {}


def open_links(text: str) -> list[str]:
    """The digest's open links in a body, in order."""
    return re.findall(OPEN_LINK, text)


def watch_links(text: str) -> list[str]:
    """The videos a plain-text body's open links lead to, in order (each link checked)."""
    links = OpenLinks.from_settings(settings_for("postgresql://unused"))
    assert links is not None
    ids = [links.verify(parse_qs(urlsplit(url).query)["token"][0]) for url in open_links(text)]
    return [_TARGETS[opening.notification_id] for opening in ids]


def sender(pool: asyncpg.Pool, settings: Settings) -> DigestSender:
    links = UnsubscribeLinks.from_settings(settings)
    assert links is not None
    return DigestSender(pool, settings, links)


async def subscribe(
    conn: asyncpg.Connection, student: uuid.UUID, address: str, period: str = "daily"
) -> None:
    """Opted in a while ago, and due now."""
    await conn.execute(
        "INSERT INTO email_digest_preferences"
        " (user_id, address, period, opted_in, opted_in_at, next_digest_at, confirmed_at)"
        " VALUES ($1, $2, $3, true, now() - interval '1 hour', now(), now())",
        student,
        address,
        period,
    )


def digests_to(box: Mailbox, address: str) -> list[EmailMessage]:
    """The digests `box` accepted for `address` (not the confirmation emails)."""
    return [m for m in box.to(address) if m["Subject"] != CONFIRM_SUBJECT]


def confirmations_to(box: Mailbox, address: str) -> list[EmailMessage]:
    """The confirmation emails `box` accepted for `address`."""
    return [m for m in box.to(address) if m["Subject"] == CONFIRM_SUBJECT]


def confirm_link(message: EmailMessage) -> str:
    """The path and query of the confirmation link in a confirmation email."""
    [url] = re.findall(
        r"https://notify\.example(/api/v1/digest/confirm\?token=\S+)", plain(message)
    )
    return str(url)
