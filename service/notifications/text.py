"""What a notification says where the server writes it out (a push, an email digest).

The rule, said once for both: a notification's text is, in this order, its payload's `title`,
`error_message` (why it failed) and `question` (what it asks), each that is a string with more
than blank space in it, stripped. The title above it is its type's label (its name when it has
none). How the lines are laid out is the channel's: a push puts each on its own line, the digest
on one line. The page's wording is the client package's (clients/js/src/types.js).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TEXT_KEYS = ("title", "error_message", "question")


def text_lines(payload: Mapping[str, Any]) -> list[str]:
    """The payload's text, one entry per filled key of TEXT_KEYS, in that order."""
    values = (payload.get(key) for key in TEXT_KEYS)
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]
