"""What a notification says where the server writes it out (a push, an email digest).

The rule, said once for both: a notification's heading is its payload's `copy_heading`, else its
type's label (its name when it has none); its text is its payload's `copy_body`, else, in this
order, its `title`, `error_message` (why it failed) and `question` (what it asks). Each counts
only as a string with more than blank space in it, stripped. `copy_heading` and `copy_body` are
the copy the notification was made with (an A/B test's variant or the type's default copy,
rendered into the payload by the insert: migration 0019). How the lines are laid out is the
channel's: a push puts each on its own line, the digest on one line. The page's wording is the
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
