"""What text a student may send, said once: for the API's validation and for rendered files.

Accepted: any characters but control characters (tab and newline allowed), surrogates, Unicode
noncharacters and invisible format characters (category Cf: bidirectional overrides/isolates,
which reorder what is shown around them, zero-width spaces, the tag characters, the deprecated
format characters U+206A-206F, interlinear annotations; the zero-width joiner and non-joiner,
which emoji and Indic scripts need, are allowed), with at least one letter or digit (the Hangul
fillers, blank letters, do not count). `PATTERN` says it for the OpenAPI document (every string it
matches is accepted); `problem` is the check; `clean` drops what is not allowed from text that
reaches a rendered file (an SVG, a video's caption) whatever its origin.
"""

from __future__ import annotations

import re
import unicodedata

# Written so that the published pattern is also a valid ECMA-262 regular expression (what JSON
# Schema validators compile): escapes for the BMP, the 32 noncharacters beyond it as themselves
# (no ECMA escape names them without the `u` flag), and no surrogates, which JSON text cannot
# carry alone anyway; the check below refuses those too.
_CONTROL = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
_JOINERS = frozenset("\u200c\u200d")
_TAGS = range(0xE0000, 0xE0080)  # the whole block, unassigned ones too
_INVISIBLE = sorted(
    {
        code
        # Format characters live in planes 0, 1 and 14 only (Unicode 15): 12 ms, not 100.
        for code in (*range(0x20000), *range(0xE0000, 0xE1000))
        if unicodedata.category(chr(code)) == "Cf" and chr(code) not in _JOINERS
    }
    | set(_TAGS)
)


def _class_items(codes: list[int]) -> str:
    """`codes` for a character class: BMP runs as escaped ranges, others one by one (an ECMA
    pattern without the `u` flag cannot hold a range beyond the BMP)."""
    items, start = [], 0
    while start < len(codes):
        end = start
        if codes[start] <= 0xFFFF:
            while end + 1 < len(codes) and codes[end + 1] == codes[end] + 1 <= 0xFFFF:
                end += 1
        first, last = codes[start], codes[end]
        if first > 0xFFFF:
            items.append(chr(first))
        else:
            items.append(f"\\u{first:04x}" + (f"-\\u{last:04x}" if last != first else ""))
        start = end + 1
    return "".join(items)


_FORMAT = _class_items(_INVISIBLE)
HANGUL_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")  # letters (Lo) that show nothing
_NONCHARACTERS = r"\ufdd0-\ufdef\ufffe\uffff" + "".join(
    chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(1, 17)
)
_PUBLISHED = f"{_CONTROL}{_FORMAT}{_NONCHARACTERS}"
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
            "tab and newline, noncharacters and invisible format characters are refused)"
        )
    if not any(character.isalnum() and character not in HANGUL_FILLERS for character in text):
        return "must contain at least one letter or digit"
    return None


def clean(text: str) -> str:
    """`text` without the characters student text may not hold."""
    return _FORBIDDEN.sub("", text)
