"""Web Push settings: the VAPID key pair, subject, public URL and TTL, refused when unusable."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr

from service.channels.push import keys
from service.settings import Settings
from tests.support.push_api import PRIVATE, PUBLIC


def test_vapid_keys_command_prints_a_pair_the_settings_accept() -> None:
    command = [sys.executable, "-m", "service", "vapid-keys"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    lines = dict(line.split("=", 1) for line in result.stdout.split())
    assert set(lines) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"}
    settings = Settings(
        vapid_public_key=lines["VAPID_PUBLIC_KEY"],
        vapid_private_key=SecretStr(lines["VAPID_PRIVATE_KEY"]),
        vapid_subject="mailto:ops@vividly.example",
        public_url="https://notify.example",
    )
    assert settings.push_enabled


def test_settings_refuse_half_or_mismatched_keys() -> None:
    other_public, _ = keys.new_pair()
    with pytest.raises(ValueError, match="both"):
        Settings(vapid_public_key=PUBLIC)
    with pytest.raises(ValueError, match="not the public key"):
        Settings(vapid_public_key=other_public, vapid_private_key=PRIVATE)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="VAPID_SUBJECT"):
        Settings(vapid_subject="admin@example.com")


@pytest.mark.parametrize(
    "subject",
    ["mailto:admin@localhost", "mailto:ops@intranet", "https://localhost/x", "mailto:a@box.local"],
)
def test_settings_refuse_a_subject_push_services_refuse(subject: str) -> None:
    with pytest.raises(ValueError, match="public domain"):
        Settings(vapid_subject=subject)


def test_push_needs_a_subject() -> None:
    with pytest.raises(ValueError, match="needs VAPID_SUBJECT"):
        Settings(vapid_public_key=PUBLIC, vapid_private_key=PRIVATE)  # type: ignore[arg-type]
    accepted = Settings(vapid_subject="https://school.example/contact")
    assert accepted.vapid_subject == "https://school.example/contact"


def test_push_needs_a_public_url() -> None:
    # Unset, links in pushes would point at where this process is bound (0.0.0.0, 127.0.0.1).
    with pytest.raises(ValueError, match="set PUBLIC_URL") as refused:
        Settings(
            vapid_public_key=PUBLIC,
            vapid_private_key=PRIVATE,  # type: ignore[arg-type]
            vapid_subject="mailto:ops@vividly.example",
            host="0.0.0.0",
            port=8000,
        )
    assert "http://0.0.0.0:8000" in str(refused.value)
    accepted = Settings(
        vapid_public_key=PUBLIC,
        vapid_private_key=PRIVATE,  # type: ignore[arg-type]
        vapid_subject="mailto:ops@vividly.example",
        public_url="https://notify.example",
    )
    assert accepted.push_enabled
    assert accepted.base_url == "https://notify.example"


def test_ttl_must_outlive_the_delays() -> None:
    with pytest.raises(ValueError, match="PUSH_TTL_SECONDS"):
        Settings(push_ttl_seconds=60, push_delay_seconds=60)
