"""What copy an admin may write for a notification type (an experiment's variant, a default).

A heading of 1 to `HEADING_MAX` characters and a body of 1 to `BODY_MAX` (after stripping), no
control characters (a heading or body is one paragraph: each channel lays it out), and no
`{name}` other than `PLACEHOLDERS`, which the database fills from the notification's payload
when it is made (`vividly_render_copy_v1`, migration 0019: each value stripped and cut to 200
characters). The copy is text everywhere it is shown (textContent on the page, escaped in the
email's HTML, JSON in a push), never markup; the same limits are CHECKs on the tables.
"""

from __future__ import annotations

import re

HEADING_MAX = 100
BODY_MAX = 300
PLACEHOLDERS = ("title", "error_message", "question")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = re.compile(r"\{([^{}]*)\}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What a type's body must show: the question a clarification waits for (a copy without it
# would hide the one thing the student must answer, on every channel).
KEEPS = {"clarification_needed": "question"}


def checked(text: str, limit: int) -> str:
    """`text` stripped, or ValueError saying what is wrong with it."""
    text = text.strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > limit:
        raise ValueError(f"must be at most {limit} characters (it has {len(text)})")
    if _CONTROL.search(text):
        raise ValueError("must be one line without control characters")
    if _SURROGATE.search(text):
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)")
    unknown = sorted({name for name in _NAMED.findall(text) if name not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        raise ValueError(
            f"may use only the placeholders {allowed}, not "
            + ", ".join(f"{{{name}}}" for name in unknown)
        )
    return text


def missing(type_name: str, body: str) -> str | None:
    """Why `body` cannot be `type_name`'s copy (a placeholder it must keep), or None."""
    name = KEEPS.get(type_name)
    if name is not None and f"{{{name}}}" not in body:
        return f"the copy of {type_name!r} must show the student the {{{name}}}"
    return None
