"""One digest as an email: plain text and HTML alternatives, with RFC 8058 one-click unsubscribe.

Guarantees:
- Both parts come from templates (templating.py: Jinja2 with autoescape, the one stylesheet
  inlined by css-inline, its dark-mode and phone @media rules kept): the product's name on top,
  a preheader (hidden text the inbox shows after the subject), one row per notification (its
  thumbnail or a placeholder, heading, title, the student's question, its date and time in
  the student's time zone, one action: digest_items.py), then "Open Vividly", "Manage
  preferences" and the unsubscribe line.
- Everything a student or the pipeline wrote (titles, reasons, questions) reaches the HTML only
  escaped (attributes too), and the plain text only with its control characters and line breaks
  folded into spaces, so it can neither add markup nor fake a line of the email. The subject
  leads with what needs the student (a question waiting for an answer, then a failed video,
  then a ready video; newest first within a kind: `by_need`), e.g. "Your video on 'Why is the
  sky blue?' is ready, and 4 more"; the preheader names the rest in that order, cut after a
  whole word with "…". The subject's title is folded to one line, stripped of control
  characters and cut to 60 characters, so it can add no header; non-ASCII is encoded by the
  email library (RFC 2047).
- With `lang` (the student's language, when known) the student's own text is marked with it;
  everything else is English (`lang="en"`).
- Every notification has one absolute link, the digest's signed open link: it records the click
  (opened, read) and goes on to the notification's subject (service/channels/email/open_routes.py).
- `List-Unsubscribe` (the signed https link first, then a `mailto:` fallback to
  EMAIL_UNSUBSCRIBE_TO) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` let mail clients
  unsubscribe in one click; the same link is in both bodies. `List-Id`, `Feedback-ID` and, when
  set, `Reply-To` come from the settings; only the top-level message has a `MIME-Version`.
- `Message-ID` is the digest's own, the same on every attempt, so a receiving server can tell a
  resend after a crash from a new digest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final

from ...live.subjects import PREFERENCES_PATH
from ...notifications.links import absolute
from . import templating
from .addresses import domain_of
from .digest_items import MAX_TEXT, Action, Item, item_from_row, one_line, zone_of
from .settings import EmailSettings

__all__ = ["MAX_TEXT", "Item", "build", "confirmation", "item_from_row", "one_line", "subject"]

MAX_PREHEADER = 140  # characters
MAX_SUBJECT = 120  # characters; the headline's student text is already cut at 60
# What needs the student most, first: the subject names it (a question waits for an answer).
NEED: Final[dict[Action, int]] = {"answer": 0, "retry": 1, "watch": 2, "open": 3}


def counted(total: int) -> str:
    """The subject that names no student text: how many there are."""
    return f"{total} notification{'' if total == 1 else 's'} you haven't seen"


def header_text(text: str) -> str:
    """`text` as an unstructured header's value: on one line (`one_line`), and with no RFC 2047
    encoded-word opener `=?` left, since the email library decodes encoded words in a value it
    is given: a student's `=?utf-8?q?=0D=0A?=` would become a real line break in the header on
    Pythons before 3.11.10 and 3.12.5 (CVE-2024-6923). A word joiner keeps it looking the same."""
    return one_line(text, MAX_SUBJECT).replace("=?", "=\u2060?")


def by_need(items: Sequence[Item]) -> list[Item]:
    """`items` with what needs the student first (NEED: a question to answer, then a failed
    video to try again, then a ready video), newest first within a kind."""
    return sorted(items, key=lambda item: (NEED[item.action], -item.created_at.timestamp()))


def cut_words(text: str, limit: int) -> str:
    """`text` on one line and at most `limit` characters, cut after a whole word with "…"
    (a single word longer than `limit` is cut inside it: nothing else fits)."""
    folded = one_line(text, len(text) + 1)
    if len(folded) <= limit:
        return folded
    head = folded[: limit - 1]  # room for the "…"
    if folded[limit - 1] != " " and " " in head:  # inside a word: back to the one before
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ·,;:—-") + "…"


def subject(items: Sequence[Item], total: int) -> str:
    """What is inside, what needs the student first (`by_need`): that item's headline and how
    many more."""
    if not items:
        return counted(total)
    more = total - 1
    return header_text(by_need(items)[0].headline + (f", and {more} more" if more > 0 else ""))


def preheader(items: Sequence[Item], total: int) -> str:
    """The rest of the digest in a line, in the subject's order, for the inbox's preview after
    the subject; cut after a whole word."""
    if len(items) <= 1:
        first = items[0] if items else None
        said = [*first.details, *([first.question] if first.question else [])] if first else []
        return cut_words(" ".join(said) or "It is waiting for you in Vividly.", MAX_PREHEADER)
    rest = [item.headline for item in by_need(items)[1:3]]
    if (beyond := total - 1 - len(rest)) > 0:
        rest.append(f"{beyond} more")
    return cut_words("Also: " + " · ".join(rest), MAX_PREHEADER)


def _intro(total: int) -> tuple[str, str]:
    plural = "" if total == 1 else "s"
    return (
        f"{total} update{plural} on your videos",
        f"Here is what you haven't seen yet in {templating.PRODUCT}, newest first.",
    )


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
    lang: str | None = None,
    time_zone: str | None = None,
) -> EmailMessage:
    """The email for `items` (the first of `total` still unseen) to `to`; `lang` the student's
    language and `time_zone` their IANA time zone, when known."""
    if settings.email_from is None:
        raise ValueError("EMAIL_FROM is unset")
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = subject(items, total)
    if str(message["Subject"]) != subject(items, total):  # read back otherwise: say less
        del message["Subject"]
        message["Subject"] = counted(total)
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
    intro, lead = _intro(total)
    context = {
        "title": message["Subject"],
        "preheader": preheader(items, total),
        "intro": intro,
        "lead": lead,
        "items": items,
        "more": max(0, total - len(items)),
        "zone": zone_of(time_zone),
        "lang": templating.language(lang),
        "app_url": absolute(settings, templating.APP_PATH),
        "preferences_url": absolute(settings, PREFERENCES_PATH),
        "unsubscribe_url": unsubscribe_url,
    }
    message.set_content(templating.text("digest.txt.j2", **context))
    message.add_alternative(templating.mail_html("digest.html.j2", **context), subtype="html")
    return _one_mime_version(message)


def _one_mime_version(message: EmailMessage) -> EmailMessage:
    """`message` with MIME-Version on the top level only (`add_alternative` adds one to the
    part it makes)."""
    for part in message.iter_parts():
        del part["MIME-Version"]
    return message


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
    context = {
        "title": CONFIRM_SUBJECT,
        "preheader": CONFIRM_PREHEADER,
        "confirm_url": confirm_url,
        "app_url": absolute(settings, templating.APP_PATH),
    }
    message.set_content(templating.text("confirm.txt.j2", **context))
    message.add_alternative(templating.mail_html("confirm.html.j2", **context), subtype="html")
    return _one_mime_version(message)


CONFIRM_SUBJECT = f"Confirm your {templating.PRODUCT} email digest address"
# Two clicks, as it takes: the mail's button, then Confirm on the page it opens.
CONFIRM_PREHEADER = (
    "Press the button, then Confirm on the page it opens, and your notification digest starts "
    "arriving here."
)
