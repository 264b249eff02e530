"""What a notification says where the server writes it out (a push, an email digest).

The rule, said once for both: a notification's heading is its payload's `copy_heading`, else its
type's label (its name when it has none); its text is its payload's `copy_body`, else, in this
order, its `title`, `error_message` (why it failed) and `question` (what it asks). Each counts
only as a string with more than blank space in it, stripped. `copy_heading` and `copy_body` are
the copy the notification was made with (an A/B test's variant or the type's default copy,
rendered into the payload by the insert: migration 0019). How the lines are laid out is the
channel's: a push puts each on its own line, the digest on one line.

What a notification is about (`about`) is its payload's `title`, else its content request's
title, else the question the student asked (the channels read the request: `with_about` puts
it in the payload's place). A ready video with nothing more to say (`body_lines`) says how long
it is and "Tap to watch", so its push is never blank.

A headline says what happened in one line where a heading alone would be generic (a push's
title): the heading, then ": " and the payload's `title` (what it is about: "Your video is ready:
Why is the sky blue?"), unless the heading is the notification's own copy or already says it;
its lines (`detail_lines`) are then the text without that title. The page's wording is the
client package's (clients/js/src/types.js), which reads the same keys in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TEXT_KEYS = ("title", "error_message", "question")
COPY_HEADING = "copy_heading"
COPY_BODY = "copy_body"


def _filled(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def heading(label: str, payload: Mapping[str, Any]) -> str:
    """The notification's heading: its copy's, else `label` (its type's)."""
    return _filled(payload.get(COPY_HEADING)) or label


def text_lines(payload: Mapping[str, Any]) -> list[str]:
    """The payload's text: its copy's body alone, else one entry per filled key of TEXT_KEYS."""
    body = _filled(payload.get(COPY_BODY))
    if body is not None:
        return [body]
    return [text for text in (_filled(payload.get(key)) for key in TEXT_KEYS) if text]


SUBJECT_KEY = "title"


def _subject(label: str, payload: Mapping[str, Any]) -> str | None:
    """The payload's title when a headline adds it to the heading."""
    if _filled(payload.get(COPY_HEADING)) is not None:
        return None
    subject = _filled(payload.get(SUBJECT_KEY))
    return subject if subject is not None and subject not in label else None


def headline(label: str, payload: Mapping[str, Any]) -> str:
    """What happened, in one line: the heading, and what it is about (see above)."""
    subject = _subject(label, payload)
    base = heading(label, payload)
    return f"{base}: {subject}" if subject is not None else base


def detail_lines(label: str, payload: Mapping[str, Any]) -> list[str]:
    """`text_lines` below a `headline`: without the title the headline already says."""
    lines = text_lines(payload)
    subject = _subject(label, payload)
    if subject is None or _filled(payload.get(COPY_BODY)) is not None:
        return lines
    return [line for line in lines if line != subject]


def about(
    payload: Mapping[str, Any], request_title: str | None = None, asked: str | None = None
) -> str | None:
    """What the notification is about (the rule above), stripped; None when nothing says."""
    return _filled(payload.get(SUBJECT_KEY)) or _filled(request_title) or _filled(asked)


def with_about(
    payload: Mapping[str, Any], request_title: str | None = None, asked: str | None = None
) -> Mapping[str, Any]:
    """`payload` with its `title` filled by `about` when it has none (a clarification's)."""
    if _filled(payload.get(SUBJECT_KEY)) is not None:
        return payload
    subject = about(payload, request_title, asked)
    return payload if subject is None else {**payload, SUBJECT_KEY: subject}


VIDEO_KEY = "video_url"
DURATION_KEY = "duration_seconds"
WATCH = "Tap to watch"


def duration(payload: Mapping[str, Any]) -> str | None:
    """The video's length in words ("2 min 5 s"), when the payload has a positive one."""
    seconds = payload.get(DURATION_KEY)
    if type(seconds) is not int or seconds <= 0:
        return None
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def body_lines(label: str, payload: Mapping[str, Any]) -> list[str]:
    """The lines below a `headline` (`detail_lines`); for a ready video with none, its length
    and "Tap to watch" ("2 min 5 s · Tap to watch")."""
    lines = detail_lines(label, payload)
    if lines or _filled(payload.get(VIDEO_KEY)) is None:
        return lines
    length = duration(payload)
    return [f"{length} · {WATCH}" if length else WATCH]
