"""A real SMTP server on the loopback for tests (aiosmtpd), recording what it accepts.

It can refuse on cue: the next DATA commands with given replies (e.g. a 451 once), or a
recipient for good. Its handler runs on the server's own thread; everything it shares with the
test is behind a lock.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One accepted message: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    refuse_data: list[str] = field(default_factory=list)  # replies to the next DATA commands
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> reply, every time
    _received: list[Received] = field(default_factory=list)
    _data_commands: int = 0
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

    def refuse_next_data(self, *replies: str) -> None:
        with self._lock:
            self.refuse_data.extend(replies)

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]

    # aiosmtpd's handler hooks (called on the server's thread)
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        with self._lock:
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
            self._received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            return f"250 2.0.0 Ok: queued as Q{len(self._received)}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 (no TLS, no AUTH) until the block ends."""
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname=box.host, port=box.port, enable_SMTPUTF8=True)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
