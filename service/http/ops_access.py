"""Who may read operational details (metrics, readiness problems): with METRICS_TOKEN set, only
a request sending `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time); without
it, everyone who reaches the port."""

from __future__ import annotations

import hmac

from pydantic import SecretStr


def allowed(authorization: str | None, token: SecretStr | None) -> bool:
    """Whether a request with this `Authorization` header may read operational details."""
    if token is None:
        return True
    expected = f"Bearer {token.get_secret_value()}".encode()
    return hmac.compare_digest((authorization or "").encode(), expected)
