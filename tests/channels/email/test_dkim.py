"""DKIM: with a selector, domain and key set, the message the SMTP server receives carries a
signature that verifies (dkimpy, against a stub resolver holding the public key) and covers the
headers RFC 8058 needs; altering a signed header breaks it. Unset: no signature."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from service.channels.email import message
from service.channels.email.transport import deliver
from service.settings import Settings
from tests.support.mailbox import smtp_server

SECRET = "dkim-test-secret-0123456789-abcdefghij"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
)
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
)


def resolver(name: bytes | str, timeout: float = 5) -> bytes | None:
    """A stub DNS: only the test key's TXT record."""
    wanted = b"mail2026._domainkey.example.com."
    asked = name if isinstance(name, bytes) else name.encode()
    return b"v=DKIM1; k=rsa; p=" + PUBLIC if asked.rstrip(b".") == wanted.rstrip(b".") else None


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


async def received(**values: Any) -> bytes:
    with smtp_server() as box:
        configured = settings(box.port, **values)
        item = message.Item(
            "Your video is ready", "Photosynthesis", "https://a.example/1", datetime.now(UTC)
        )
        email = message.build(
            configured,
            to="student@example.com",
            items=[item],
            total=1,
            unsubscribe_url="https://notify.example/api/v1/digest/unsubscribe?token=t",
            message_uuid=uuid.uuid4(),
            date=datetime.now(UTC),
        )
        await deliver(configured, email)
        [one] = box.received
    return one.raw


def signed_headers(raw: bytes) -> set[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ")
    [signature] = [line for line in unfolded.split("\r\n") if line.startswith("DKIM-Signature:")]
    tags = dict(
        part.strip().split("=", 1) for part in signature.split(":", 1)[1].split(";") if "=" in part
    )
    return {name.strip().lower() for name in tags["h"].replace(" ", "").split(":")}


async def test_the_received_message_is_signed_and_verifies(tmp_path: Path) -> None:
    raw = await received(
        dkim_selector="mail2026",
        dkim_domain="example.com",
        dkim_private_key=SecretStr(PEM.decode()),
    )
    assert raw.startswith(b"DKIM-Signature:")
    assert dkim.verify(raw, dnsfunc=resolver)
    assert {
        "from",
        "to",
        "subject",
        "date",
        "list-unsubscribe",
        "list-unsubscribe-post",
    } <= signed_headers(raw)
    forged = raw.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: nope"
    )
    assert forged != raw
    assert not dkim.verify(forged, dnsfunc=resolver)
    # The same from a key file.
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(PEM)
    raw = await received(
        dkim_selector="mail2026", dkim_domain="example.com", dkim_private_key_file=key_file
    )
    assert dkim.verify(raw, dnsfunc=resolver)


async def test_without_dkim_settings_nothing_is_signed() -> None:
    assert b"DKIM-Signature" not in await received()


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"dkim_selector": "s1"}, "together"),
        ({"dkim_selector": "s1", "dkim_domain": "example.com"}, "together"),
        ({"dkim_private_key": SecretStr(PEM.decode())}, "together"),
        (
            {
                "dkim_selector": "s1",
                "dkim_domain": "example.com",
                "dkim_private_key": SecretStr("x"),
            },
            "cannot sign",
        ),
        (
            {
                "dkim_selector": "s1",
                "dkim_domain": "example.com",
                "dkim_private_key_file": Path("/nonexistent/dkim.pem"),
            },
            "cannot read",
        ),
    ],
)
def test_incomplete_or_unusable_dkim_settings_are_refused(
    values: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        settings(25, **values)
