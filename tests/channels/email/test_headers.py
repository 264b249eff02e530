"""What a receiving server sees of a digest: the envelope sender for bounces, Reply-To, List-Id,
Feedback-ID, List-Unsubscribe with its mailto: fallback, one MIME-Version (real SMTP server)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from service.channels.email import message
from service.channels.email.transport import deliver
from service.settings import Settings
from tests.support.mailbox import Received, smtp_server

SECRET = "headers-test-secret-0123456789-abcdefghij"
UNSUBSCRIBE = "https://notify.example/api/v1/digest/unsubscribe?token=t"


def settings(port: int, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "jwt_secret": SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_tls": "none",
        "smtp_timeout_seconds": 5,
        "email_from": "Vividly <digest@example.com>",
        "public_url": "https://notify.example",
    }
    return Settings(**{**base, **values})


async def received(**values: Any) -> Received:
    with smtp_server() as box:
        configured = settings(box.port, **values)
        item = message.Item("Your video is ready", None, "https://a.example/1", datetime.now(UTC))
        email = message.build(
            configured,
            to="student@example.com",
            items=[item],
            total=1,
            unsubscribe_url=UNSUBSCRIBE,
            message_uuid=uuid.uuid4(),
            date=datetime.now(UTC),
        )
        await deliver(configured, email)
        [one] = box.received
    return one


async def test_the_configured_headers_and_envelope_arrive() -> None:
    got = await received(
        email_envelope_from="bounces@mail.example.com",
        email_reply_to="Help <help@example.com>",
        email_unsubscribe_to="unsubscribe@example.com",
        email_list_id="digest.vividly.example",
        email_feedback_id="digest:school-1:vividly",
    )
    assert got.mail_from == "bounces@mail.example.com"  # bounces go there ...
    assert got.message["From"] == "Vividly <digest@example.com>"  # ... the From is unchanged
    assert got.message["Reply-To"] == "Help <help@example.com>"
    assert got.message["List-Id"] == "<digest.vividly.example>"
    assert got.message["Feedback-ID"] == "digest:school-1:vividly"
    assert got.message["List-Unsubscribe"] == (
        f"<{UNSUBSCRIBE}>, <mailto:unsubscribe@example.com?subject=unsubscribe>"
    )
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_the_defaults_come_from_email_from() -> None:
    got = await received()
    assert got.mail_from == "digest@example.com"
    assert got.message["Reply-To"] is None
    assert got.message["List-Id"] == "<digest.example.com>"
    assert got.message["Feedback-ID"] == "digest:vividly-notify"
    unsubscribe = got.message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{UNSUBSCRIBE}>, ")  # the https one first
    assert unsubscribe.endswith("<mailto:digest@example.com?subject=unsubscribe>")
    # The mailto falls back to EMAIL_REPLY_TO's address when it is set.
    got = await received(email_reply_to="Help <help@example.com>")
    assert got.message["List-Unsubscribe"].endswith("<mailto:help@example.com?subject=unsubscribe>")


async def test_only_the_top_level_has_a_mime_version() -> None:
    got = await received()
    assert got.raw.count(b"MIME-Version:") == 1
    assert got.message["MIME-Version"] == "1.0"
    assert all(part["MIME-Version"] is None for part in got.message.iter_parts())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("email_envelope_from", "Bounces <bounces@example.com>"),
        ("email_unsubscribe_to", "not an address"),
        ("email_reply_to", "a@example.com, b@example.com"),
        ("email_list_id", "no-dot"),
        ("email_feedback_id", "has space"),
    ],
)
def test_unusable_header_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"(?i){name}"):
        settings(25, **{name: value})
