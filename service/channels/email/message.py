"""One digest as an email: plain text and HTML alternatives, with RFC 8058 one-click unsubscribe.

Guarantees:
- Everything a student or the pipeline wrote (titles, reasons, questions) reaches the HTML only
  through `html.escape` (attributes too), and the plain text only with its control characters and
  line breaks folded into spaces, so it can neither add markup nor fake a line of the email. It
  never reaches a header: the subject says only how many there are.
- Every notification has one absolute link, the digest's signed open link: it records the click
  (opened, read) and goes on to the video (service/channels/email/open_routes.py).
- `List-Unsubscribe` (the signed https link first, then a `mailto:` fallback to
  EMAIL_UNSUBSCRIBE_TO) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` let mail clients
  unsubscribe in one click; the same link is in both bodies. `List-Id`, `Feedback-ID` and, when
  set, `Reply-To` come from the settings; only the top-level message has a `MIME-Version`.
- `Message-ID` is the digest's own, the same on every attempt, so a receiving server can tell a
  resend after a crash from a new digest.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from ...notifications.links import absolute
from ...notifications.text import heading, text_lines
from .addresses import domain_of
from .settings import EmailSettings

MAX_TEXT = 200  # characters of a notification's text shown
_FOLD = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class Item:
    """One notification as the digest lists it."""

    label: str  # what happened, e.g. "Your video is ready" (`notifications.text.heading`)
    text: str | None  # its text (`notification_text`), as written, on one line
    link: str
    created_at: datetime


def item_from_row(row: Mapping[str, Any], link: str) -> Item:
    """An `Item` from a DIGEST_CONTENT row, linking to `link` (its open link)."""
    return Item(
        label=heading(row["label"], row["payload"]),
        text=" — ".join(text_lines(row["payload"])) or None,
        link=link,
        created_at=row["created_at"],
    )


def one_line(text: str) -> str:
    """`text` on one line, control characters folded, at most MAX_TEXT characters."""
    folded = _FOLD.sub(" ", text).strip()
    return folded if len(folded) <= MAX_TEXT else folded[: MAX_TEXT - 1].rstrip() + "…"


def subject(total: int) -> str:
    return f"{total} notification{'' if total == 1 else 's'} you haven't seen"


def message_id(settings: EmailSettings, message_uuid: uuid.UUID) -> str:
    return f"<digest-{message_uuid}@{domain_of(settings.email_from or '')}>"


def build(
    settings: EmailSettings,
    *,
    to: str,
    items: Sequence[Item],
    total: int,
    unsubscribe_url: str,
    message_uuid: uuid.UUID,
    date: datetime,
) -> EmailMessage:
    """The email for `items` (the first of `total` still unseen) to `to`."""
    if settings.email_from is None:
        raise ValueError("EMAIL_FROM is unset")
    app_url = absolute(settings, "/")
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = subject(total)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id(settings, message_uuid)
    if settings.email_reply_to is not None:
        message["Reply-To"] = settings.email_reply_to
    mailto = f"mailto:{settings.unsubscribe_mailbox}?subject=unsubscribe"
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>, <{mailto}>"  # one-click first
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-Id"] = f"<{settings.list_id}>"
    message["Feedback-ID"] = settings.email_feedback_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(_text(items, total, app_url, unsubscribe_url))
    message.add_alternative(_html(items, total, app_url, unsubscribe_url), subtype="html")
    return _one_mime_version(message)


def _one_mime_version(message: EmailMessage) -> EmailMessage:
    """`message` with MIME-Version on the top level only (`add_alternative` adds one to the
    part it makes)."""
    for part in message.iter_parts():
        del part["MIME-Version"]
    return message


def _more(items: Sequence[Item], total: int) -> int:
    return total - len(items)


def _text(items: Sequence[Item], total: int, app_url: str, unsubscribe_url: str) -> str:
    lines = [f"{subject(total)}:", ""]
    for item in items:
        lines.append(f"* {one_line(item.label)}")
        if item.text:
            lines.append(f"  {one_line(item.text)}")
        lines.append(f"  {item.link}")
        lines.append("")
    if more := _more(items, total):
        lines += [f"... and {more} more: {app_url}", ""]
    lines += [
        "-- ",
        "You get this digest because you turned it on in your notification preferences.",
        f"Unsubscribe: {unsubscribe_url}",
    ]
    return "\n".join(lines) + "\n"


def _html(items: Sequence[Item], total: int, app_url: str, unsubscribe_url: str) -> str:
    def e(text: str) -> str:
        return html.escape(text, quote=True)

    entries = []
    for item in items:
        detail = f"<br>{e(one_line(item.text))}" if item.text else ""
        entries.append(f'<li><a href="{e(item.link)}">{e(one_line(item.label))}</a>{detail}</li>')
    more = _more(items, total)
    more_html = f'<p><a href="{e(app_url)}">… and {more} more</a></p>' if more else ""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{e(subject(total))}</title></head><body>\n"
        f"<h1>{e(subject(total))}</h1>\n<ul>\n" + "\n".join(entries) + f"\n</ul>\n{more_html}\n"
        "<hr><p>You get this digest because you turned it on in your notification preferences. "
        f'<a href="{e(unsubscribe_url)}">Unsubscribe</a></p>\n</body></html>\n'
    )


def confirmation(
    settings: EmailSettings, *, to: str, confirm_url: str, message_uuid: uuid.UUID, date: datetime
) -> EmailMessage:
    """The email that asks the owner of `to` to confirm it gets digests (double opt-in)."""
    if settings.email_from is None:
        raise ValueError("EMAIL_FROM is unset")
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = CONFIRM_SUBJECT
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<confirm-{message_uuid}@{domain_of(settings.email_from)}>"
    if settings.email_reply_to is not None:
        message["Reply-To"] = settings.email_reply_to
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        "Someone (we hope you) asked for an email digest of their notifications at this "
        "address.\n\n"
        f"To get it, confirm here (the page has a button):\n{confirm_url}\n\n"
        "If it was not you, ignore this email: nothing will be sent.\n"
    )
    e = html.escape(confirm_url, quote=True)
    message.add_alternative(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{CONFIRM_SUBJECT}</title></head><body>\n"
        "<p>Someone (we hope you) asked for an email digest of their notifications at this "
        "address.</p>\n"
        f'<p><a href="{e}">Confirm this address</a> (the page has a button).</p>\n'
        "<p>If it was not you, ignore this email: nothing will be sent.</p>\n</body></html>\n",
        subtype="html",
    )
    return _one_mime_version(message)


CONFIRM_SUBJECT = "Confirm your email digest address"
