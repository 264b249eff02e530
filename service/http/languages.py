"""The language a student reads: a BCP 47 tag, from what they said or what their browser sends.

Guarantees:
- `LANGUAGE_TAG` is the one shape of a tag the service stores (the database's CHECK on
  `email_digest_preferences.locale` is the same): 2 to 3 letters, then subtags of 1 to 8 letters or
  digits, at most 35 characters. It is kept as written (`pt-BR`), never case-folded.
- `preferred_language` reads an Accept-Language header (RFC 9110 §12.5.4) and returns its
  highest-weighted well-formed tag; `*`, weights of 0, malformed entries and unparsable weights
  are skipped; None when nothing usable is left (the caller then stores nothing).
"""

from __future__ import annotations

import re
from typing import Final

LANGUAGE_TAG: Final = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
MAX_TAG: Final = 35
MAX_HEADER: Final = 1000  # longer Accept-Language headers are not read at all
_TAG = re.compile(LANGUAGE_TAG)


def is_language_tag(value: str) -> bool:
    return len(value) <= MAX_TAG and _TAG.fullmatch(value) is not None


def _weight(parameters: list[str]) -> float | None:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return None
            return weight if 0 <= weight <= 1 else None
    return 1.0


def preferred_language(header: str | None) -> str | None:
    """The best tag of an Accept-Language header, or None."""
    if not header or len(header) > MAX_HEADER:
        return None
    best: tuple[float, int, str] | None = None
    for position, entry in enumerate(header.split(",")):
        tag, *parameters = entry.strip().split(";")
        tag = tag.strip()
        weight = _weight(parameters)
        if weight is None or weight == 0 or not is_language_tag(tag):
            continue
        candidate = (weight, -position, tag)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best is not None else None
