"""Handing emails to the SMTP server (aiosmtplib), the outcome classified.

Guarantees:
- `Mailer.send` returns only once the server accepted the message (its reply to DATA); anything
  else, whatever it is, raises `SendFailed`, within SMTP_TIMEOUT_SECONDS per message (the
  connection included when it is opened for it). One `Mailer` keeps one connection open for the
  messages of a pass and closes it at the end (`async with`).
- `SendFailed.permanent` is true only when retrying cannot help this message: the server refused
  the recipient or the message with a 5xx code, the address cannot be written in SMTP, or its
  local part is not ASCII and the server does not offer SMTPUTF8. Refusals that an operator or
  time can fix (4xx, a refused sender or login, a lost connection, a timeout) are not permanent.
- `SendFailed.bounce` is true for a hard bounce: the server refused the recipient with a 5xx
  (the address, not the message); the sender counts those on the address.
- `SendFailed.server` is true when the failure is the server's, not the message's (cannot
  connect, TLS, login, sender refused, the connection lost or silent): the caller stops the pass.
- The envelope sender (MAIL FROM, where bounces go) is EMAIL_ENVELOPE_FROM, else the address of
  EMAIL_FROM; the From header is EMAIL_FROM either way.
- Addresses go into the envelope in ASCII when they can: an internationalised domain as punycode.
  Only a non-ASCII local part needs SMTPUTF8 (RFC 6531), asked for that message alone.
- `starttls` refuses to go on in plain text when the server does not offer STARTTLS; certificates
  are verified (`tls`, `starttls`) against the system's CAs plus SMTP_CA_FILE.
- With DKIM on (settings), the bytes sent are signed (`dkim_signing.py`) after flattening.
- Header lines are folded at 998 characters (RFC 5322's limit), not 78: a `List-Unsubscribe` URL
  cannot be folded, and the email package would otherwise turn it into RFC 2047 encoded words,
  which mail clients do not read as a URL. So the message is flattened here, not by aiosmtplib.
"""

from __future__ import annotations

import asyncio
import email.errors
import email.policy
import ssl
from email.message import EmailMessage
from email.utils import formataddr, getaddresses
from types import TracebackType

import aiosmtplib
import idna

from .dkim_signing import Signer
from .settings import EmailSettings


class SendFailed(Exception):
    """The server did not accept the message (the text says why)."""

    def __init__(
        self, reason: str, *, permanent: bool, server: bool = False, bounce: bool = False
    ) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.server = server
        self.bounce = bounce


MAX_LINE = 998  # RFC 5322 2.1.1


def envelope_address(address: str) -> tuple[str, bool]:
    """`address` as the envelope carries it, and whether that needs SMTPUTF8; ValueError when
    it cannot be written in SMTP at all."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"not an address: {address!r}")
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise ValueError(f"the domain of {address!r} has no ASCII form: {error}") from error
    return f"{local}@{domain}", not local.isascii()


def _wire(
    message: EmailMessage, sender: str, signer: Signer | None = None
) -> tuple[bytes, str, list[str], bool]:
    """The message as sent (CRLF, long header lines kept whole), its envelope (from `sender`)
    and whether it needs SMTPUTF8."""
    [(name, to)] = getaddresses([str(message["To"])])
    sender, sender_utf8 = envelope_address(sender)
    recipient, utf8 = envelope_address(to)
    utf8 = utf8 or sender_utf8
    if not utf8:
        del message["To"]
        message["To"] = formataddr((name, recipient)) if name else recipient
    policy = email.policy.SMTPUTF8 if utf8 else email.policy.SMTP
    data = message.as_bytes(policy=policy.clone(max_line_length=MAX_LINE))
    if signer is not None:
        data = signer.sign(data)
    return data, sender, [recipient], utf8


def _limited(text: str) -> str:
    return " ".join(text.split())[:300]


class Mailer:
    """One SMTP connection for the messages of a pass, opened on the first one."""

    def __init__(self, settings: EmailSettings) -> None:
        if settings.smtp_host is None:
            raise ValueError("SMTP_HOST is unset")
        self._settings = settings
        self._signer = settings.dkim_signer()
        self._smtp: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Mailer:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            async with asyncio.timeout(5):
                await smtp.quit()
        except Exception:  # the server is gone or rude: the socket is closed either way
            smtp.close()

    def _client(self) -> aiosmtplib.SMTP:
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        context = None
        if settings.smtp_tls != "none":
            context = ssl.create_default_context()  # the system's CAs ...
            if settings.smtp_ca_file is not None:
                context.load_verify_locations(cafile=str(settings.smtp_ca_file))  # ... plus these
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port_or_default,
            username=settings.smtp_username,
            password=password,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",  # False: never try it
            tls_context=context,
            timeout=settings.smtp_timeout_seconds,
        )

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        smtp = self._client()
        try:
            await smtp.connect()
        except aiosmtplib.SMTPException as error:
            smtp.close()
            raise SendFailed(
                _limited(f"{type(error).__name__}: {error}"), permanent=False, server=True
            ) from error
        except (OSError, ssl.SSLError) as error:
            raise SendFailed(
                _limited(f"{type(error).__name__}: {error}"), permanent=False, server=True
            ) from error
        self._smtp = smtp
        return smtp

    async def send(self, message: EmailMessage) -> str:
        """Send `message`; return the server's acceptance reply, else raise SendFailed."""
        timeout = self._settings.smtp_timeout_seconds
        try:
            data, sender, recipients, utf8 = _wire(
                message, self._settings.envelope_from, self._signer
            )
        except (ValueError, UnicodeError, email.errors.MessageError) as error:
            raise SendFailed(_limited(f"cannot be sent: {error}"), permanent=True) from error
        try:
            async with asyncio.timeout(timeout):
                smtp = await self._connected()
                _refused, reply = await smtp.sendmail(
                    sender, recipients, data, mail_options=["SMTPUTF8"] if utf8 else []
                )
        except SendFailed:
            raise
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            reasons = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            permanent = all(code >= 500 for code in codes)
            raise SendFailed(
                _limited(f"recipient refused: {reasons}"), permanent=permanent, bounce=permanent
            ) from error
        except aiosmtplib.SMTPNotSupported as error:  # SMTPUTF8 (STARTTLS fails in connect)
            raise SendFailed(
                _limited(f"not supported by the server: {error}"), permanent=True
            ) from (error)
        except aiosmtplib.SMTPDataError as error:
            raise SendFailed(
                _limited(f"message refused: {error.code} {error.message}"),
                permanent=error.code >= 500,
            ) from error
        except aiosmtplib.SMTPSenderRefused as error:  # the same for every message: the server's
            await self.close()
            raise SendFailed(
                _limited(f"sender refused: {error.code} {error.message}"),
                permanent=False,
                server=True,
            ) from error
        except aiosmtplib.SMTPResponseException as error:
            raise SendFailed(
                _limited(f"refused: {error.code} {error.message}"), permanent=False
            ) from error
        except (aiosmtplib.SMTPException, OSError) as error:  # lost connection, and the like
            await self.close()
            raise SendFailed(
                _limited(f"{type(error).__name__}: {error}"), permanent=False, server=True
            ) from error
        except TimeoutError as error:
            await self.close()
            raise SendFailed(
                f"no answer within {timeout:g} s", permanent=False, server=True
            ) from error
        except Exception as error:  # whatever else: this message's failure, never a crash
            await self.close()
            raise SendFailed(
                _limited(f"unexpected {type(error).__name__}: {error}"), permanent=False
            ) from error
        return _limited(reply) or "accepted"


async def deliver(settings: EmailSettings, message: EmailMessage) -> str:
    """Send one `message` on a connection of its own; return the server's acceptance reply."""
    if settings.smtp_host is None:
        raise SendFailed("SMTP_HOST is unset", permanent=False, server=True)
    async with Mailer(settings) as mailer:
        return await mailer.send(message)
