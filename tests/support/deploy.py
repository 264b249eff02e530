"""The deployment files, read by the deploy tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import compose_spec

ROOT = Path(__file__).resolve().parents[2]


def load_compose(text: str) -> dict[str, Any]:
    """The compose file as the specification reads it (YAML merge keys applied); raises on
    anything the specification does not allow."""
    native = compose_spec.PyOptions(apply_merge=True).from_yaml(text)
    parsed = compose_spec.PyCompose(native)  # type: ignore[call-arg]  # the .pyi lags the wrapper
    parsed.validate()
    return parsed.to_dict()
