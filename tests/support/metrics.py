"""Reading one sample out of a Prometheus `/metrics` text."""

from __future__ import annotations

import re


def value(text: str, name: str) -> float:
    """The value of the sample `name` (a regex; labels optional) in an exposition text."""
    match = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing"
    return float(match.group(1))
