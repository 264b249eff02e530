"""Handing a digest to real SMTP servers on the loopback: STARTTLS, TLS, AUTH, and the refusals
that must not fall back to plain text or an unverified server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.channels.email import message
from service.channels.email.addresses import student_address
from service.channels.email.transport import Mailer, SendFailed, deliver
from service.settings import Settings
from tests.support.mailbox import self_signed, smtp_server
from tests.support.ports import free_port

SECRET = "smtp-test-secret-0123456789-abcdefghij"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("smtp-tls"))


def settings(port: int, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "jwt_secret": SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_timeout_seconds": 5,
        "email_from": "Vividly <digest@example.com>",
        "public_url": "https://notify.example",
    }
    return Settings(**{**base, **values})


def digest(configured: Settings, to: str = "student@example.com") -> Any:
    item = message.Item(
        "Your video is ready", "Photosynthesis", "https://a.example/1", datetime.now(UTC)
    )
    return message.build(
        configured,
        to=to,
        items=[item],
        total=1,
        unsubscribe_url="https://notify.example/u?token=t",
        message_uuid=uuid.uuid4(),
        date=datetime.now(UTC),
    )


async def test_starttls_with_login_delivers(cert: tuple[Path, Path]) -> None:
    with smtp_server(tls="starttls", cert=cert, login=("digest", "s3cret")) as box:
        configured = settings(
            box.port,
            smtp_tls="starttls",
            smtp_ca_file=cert[0],
            smtp_username="digest",
            smtp_password="s3cret",
        )
        reply = await deliver(configured, digest(configured))
        assert "queued as" in reply
        [received] = box.received
    assert received.rcpt_tos == ["student@example.com"]
    assert received.mail_from == "digest@example.com"


async def test_a_wrong_password_is_not_permanent(cert: tuple[Path, Path]) -> None:
    with smtp_server(tls="starttls", cert=cert, login=("digest", "s3cret")) as box:
        configured = settings(
            box.port,
            smtp_tls="starttls",
            smtp_ca_file=cert[0],
            smtp_username="digest",
            smtp_password="wrong",
        )
        with pytest.raises(SendFailed) as refused:
            await deliver(configured, digest(configured))
        assert not refused.value.permanent  # an operator can fix it: the digest waits
        assert not box.received


async def test_implicit_tls_delivers(cert: tuple[Path, Path]) -> None:
    with smtp_server(tls="tls", cert=cert) as box:
        configured = settings(box.port, smtp_tls="tls", smtp_ca_file=cert[0])
        await deliver(configured, digest(configured))
        assert len(box.received) == 1


async def test_starttls_never_falls_back_to_plain_text() -> None:
    with smtp_server(tls="none") as box:  # offers no STARTTLS
        configured = settings(box.port, smtp_tls="starttls")
        with pytest.raises(SendFailed, match="STARTTLS extension not supported"):
            await deliver(configured, digest(configured))
        assert box.data_commands == 0


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_an_unverified_certificate_is_refused(cert: tuple[Path, Path], mode: str) -> None:
    with smtp_server(tls=mode, cert=cert) as box:
        configured = settings(box.port, smtp_tls=mode)  # the system's CAs: not ours
        with pytest.raises(SendFailed) as refused:
            await deliver(configured, digest(configured))
        assert not refused.value.permanent
        assert box.data_commands == 0


async def test_a_recipient_refused_with_5xx_is_permanent_and_4xx_is_not() -> None:
    with smtp_server() as box:
        box.refuse_rcpt["gone@example.com"] = "550 5.1.1 No such user"
        box.refuse_rcpt["later@example.com"] = "450 4.2.0 Mailbox busy"
        configured = settings(box.port, smtp_tls="none")
        with pytest.raises(SendFailed, match="550") as gone:
            await deliver(configured, digest(configured, "gone@example.com"))
        assert gone.value.permanent
        with pytest.raises(SendFailed, match="450") as later:
            await deliver(configured, digest(configured, "later@example.com"))
        assert not later.value.permanent


async def test_nobody_listening_is_not_permanent() -> None:
    configured = settings(free_port(), smtp_tls="none")
    with pytest.raises(SendFailed) as refused:
        await deliver(configured, digest(configured))
    assert not refused.value.permanent


async def test_international_domains_go_as_punycode_and_utf8_local_parts_need_smtputf8() -> None:
    # Before: aiosmtplib's UnicodeEncodeError escaped `deliver` and crashed the digest task.
    domain = student_address("a@xn--bcher-kva.de")  # stored in its Unicode form
    assert domain == "a@bücher.de"
    with smtp_server() as box:
        configured = settings(box.port, smtp_tls="none")
        await deliver(configured, digest(configured, domain))
        await deliver(configured, digest(configured, "ü@example.com"))
        [ascii_one, utf8_one] = box.received
    assert ascii_one.rcpt_tos == ["a@xn--bcher-kva.de"]
    assert ascii_one.message["To"] == "a@xn--bcher-kva.de"
    assert utf8_one.rcpt_tos == ["ü@example.com"]
    with smtp_server(utf8=False) as box:
        configured = settings(box.port, smtp_tls="none")
        await deliver(configured, digest(configured, domain))  # needs no SMTPUTF8
        with pytest.raises(SendFailed, match="SMTPUTF8") as refused:
            await deliver(configured, digest(configured, "ü@example.com"))
        assert refused.value.permanent
        assert len(box.received) == 1


async def test_a_5xx_reply_to_data_is_permanent_and_4xx_is_not() -> None:
    with smtp_server() as box:
        box.refuse_next_data("554 5.7.1 Rejected as spam", "451 4.3.0 Try later")
        configured = settings(box.port, smtp_tls="none")
        with pytest.raises(SendFailed, match="554") as spam:
            await deliver(configured, digest(configured))
        assert spam.value.permanent
        assert not spam.value.server
        with pytest.raises(SendFailed, match="451") as later:
            await deliver(configured, digest(configured))
        assert not later.value.permanent
        assert not later.value.server


async def test_one_connection_carries_the_messages_of_a_pass() -> None:
    with smtp_server() as box:
        box.refuse_rcpt["gone@example.com"] = "550 5.1.1 No such user"
        configured = settings(box.port, smtp_tls="none")
        async with Mailer(configured) as mailer:
            await mailer.send(digest(configured, "one@example.com"))
            with pytest.raises(SendFailed):
                await mailer.send(digest(configured, "gone@example.com"))
            await mailer.send(digest(configured, "two@example.com"))
        assert [r.rcpt_tos for r in box.received] == [["one@example.com"], ["two@example.com"]]
        assert box.sessions == 1


async def test_an_unreachable_server_is_the_servers_failure() -> None:
    configured = settings(free_port(), smtp_tls="none")
    with pytest.raises(SendFailed) as refused:
        await deliver(configured, digest(configured))
    assert refused.value.server
    assert not refused.value.permanent
