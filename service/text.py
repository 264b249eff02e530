"""What text a student may send, said once: for the API's validation and for rendered files.

Accepted: any characters but control characters (tab and newline allowed), surrogates, Unicode
noncharacters and bidirectional overrides/isolates (which reorder what is shown around them), with
at least one letter or digit. `PATTERN` says it for the OpenAPI document (every string it matches
is accepted); `problem` is the check; `clean` drops what is not allowed from text that
reaches a rendered file (an SVG, a video's caption) whatever its origin.
"""

from __future__ import annotations

import re

# Written so that the published pattern is also a valid ECMA-262 regular expression (what JSON
# Schema validators compile): escapes for the BMP, the 32 noncharacters beyond it as themselves
# (no ECMA escape names them without the `u` flag), and no surrogates, which JSON text cannot
# carry alone anyway; the check below refuses those too.
_CONTROL = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_NONCHARACTERS = r"\ufdd0-\ufdef\ufffe\uffff" + "".join(
    chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(1, 17)
)
_PUBLISHED = f"{_CONTROL}{_BIDI}{_NONCHARACTERS}"
_FORBIDDEN = re.compile(f"[{_PUBLISHED}\\ud800-\\udfff]")
# At least one letter or digit: `[^\W_]` is exactly `str.isalnum` in Python (in ECMA, ASCII
# only: a narrower pattern, so whatever matches it is accepted).
PATTERN = f"^[^{_PUBLISHED}]*[^\\W_][^{_PUBLISHED}]*$"


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
