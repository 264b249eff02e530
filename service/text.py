"""What text a student may send, said once: for the API's validation and for rendered files.

Accepted: any characters but control characters (tab and newline allowed), surrogates, Unicode
noncharacters and bidirectional overrides/isolates (which reorder what is shown around them), with
at least one letter or digit. `PATTERN` says the same for the OpenAPI document (Python regular
expression syntax); `problem` is the check; `clean` drops what is not allowed from text that
reaches a rendered file (an SVG, a video's caption) whatever its origin.
"""

from __future__ import annotations

import re

# Regular-expression escapes, not the characters themselves: the pattern is also published in
# the OpenAPI document, which cannot hold a lone surrogate.
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_CONTROL = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
_NONCHARACTERS = r"\ufdd0-\ufdef\ufffe\uffff" + "".join(
    rf"\U{plane:04x}fffe\U{plane:04x}ffff" for plane in range(1, 17)
)
_SURROGATES = r"\ud800-\udfff"
_NOT_ALLOWED = f"{_CONTROL}{_SURROGATES}{_BIDI}{_NONCHARACTERS}"
_FORBIDDEN = re.compile(f"[{_NOT_ALLOWED}]")
# A letter or digit, as Python's `str.isalnum` says (what `[^\W_]` matches).
PATTERN = f"^[^{_NOT_ALLOWED}]*[^\\W_][^{_NOT_ALLOWED}]*$"


def problem(text: str) -> str | None:
    """Why `text` is not acceptable student text; None when it is."""
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        return (
            f"character U+{ord(bad.group()):04X} is not allowed (control characters other than "
            "tab and newline, noncharacters and bidirectional overrides are refused)"
        )
    if not any(character.isalnum() for character in text):
        return "must contain at least one letter or digit"
    return None


def clean(text: str) -> str:
    """`text` without the characters student text may not hold."""
    return _FORBIDDEN.sub("", text)
