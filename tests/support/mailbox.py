"""A real SMTP server on the loopback for tests (aiosmtpd), recording what it accepts, in plain
text, with STARTTLS or with TLS (a self-signed certificate), with or without AUTH.

It can refuse on cue: the next DATA commands with given replies (e.g. a 451 once), or a
recipient for good. Its handler runs on the server's own thread; everything it shares with the
test is behind a lock.
"""

from __future__ import annotations

import email
import email.policy
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.ports import free_port


@dataclass
class Received:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes  # as it came over the wire


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    refuse_data: list[str] = field(default_factory=list)  # replies to the next DATA commands
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> reply, every time
    _received: list[Received] = field(default_factory=list)
    _data_commands: int = 0
    _sessions: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def data_commands(self) -> int:
        """DATA commands seen, refused ones included."""
        with self._lock:
            return self._data_commands

    @property
    def sessions(self) -> int:
        """SMTP sessions (connections) that named a recipient."""
        with self._lock:
            return len(self._sessions)

    def refuse_next_data(self, *replies: str) -> None:
        with self._lock:
            self.refuse_data.extend(replies)

    def stop_refusing(self) -> None:
        with self._lock:
            self.refuse_data.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]

    def raw_to(self, address: str) -> list[bytes]:
        return [r.raw for r in self.received if address in r.rcpt_tos]

    # aiosmtpd's handler hooks (called on the server's thread)
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        with self._lock:
            self._sessions.add(id(session))
            refusal = self.refuse_rcpt.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self._data_commands += 1
            if self.refuse_data:
                return self.refuse_data.pop(0)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self._received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, envelope.content)
            )
            return f"250 2.0.0 Ok: queued as Q{len(self._received)}"


@contextmanager
def smtp_server(
    *,
    tls: str = "none",
    cert: tuple[Path, Path] | None = None,
    login: tuple[str, str] | None = None,
    utf8: bool = True,
) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 until the block ends.

    `tls`: `none`, `starttls` (offered and required before MAIL) or `tls` (from the first byte),
    with `cert` (certificate and key files). `login`: AUTH required, with this user and password.
    """
    box = Mailbox(port=free_port())
    context = None
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert)
    options: dict[str, Any] = {"enable_SMTPUTF8": utf8}
    if tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    elif tls == "tls":
        options.update(ssl_context=context)
    if login is not None:
        options.update(auth_required=True, authenticator=_Authenticator(*login))
    controller = Controller(box, hostname=box.host, port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost) and its key, as PEM files in `directory`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
