"""PUBLIC_URL must be https when the digest or Web Push is on (plain http only on the loopback):
a settings error at start-up, not a warning in the log."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from service.settings import Settings
from tests.support.push_api import PRIVATE, PUBLIC

SECRET = "https-test-secret-0123456789-abcdefghij"
DIGEST = {
    "jwt_secret": SECRET,
    "smtp_host": "127.0.0.1",
    "smtp_tls": "none",
    "email_from": "digest@example.com",
}
PUSH = {
    "jwt_secret": SECRET,
    "vapid_public_key": PUBLIC,
    "vapid_private_key": SecretStr(PRIVATE),
    "vapid_subject": "mailto:ops@example.com",
}


@pytest.mark.parametrize("channel", [DIGEST, PUSH], ids=["digest", "push"])
def test_plain_http_on_a_public_host_is_refused(channel: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="PUBLIC_URL must be https://") as refused:
        Settings(**channel, public_url="http://notify.example")
    assert "http://notify.example" in str(refused.value)


@pytest.mark.parametrize("channel", [DIGEST, PUSH], ids=["digest", "push"])
@pytest.mark.parametrize(
    "url",
    [
        "https://notify.example",
        "http://localhost:8000",
        "http://127.0.0.1:8000",
        "http://[::1]:8080",
    ],
)
def test_https_or_the_loopback_is_accepted(channel: dict[str, Any], url: str) -> None:
    assert Settings(**channel, public_url=url).public_url == url


def test_plain_http_is_fine_with_neither_channel_on() -> None:
    settings = Settings(jwt_secret=SecretStr(SECRET), public_url="http://notify.example")
    assert settings.public_url == "http://notify.example"
