"""Handing one email to the SMTP server (aiosmtplib), with the outcome classified.

Guarantees:
- `deliver` returns only once the server accepted the message (its reply to DATA); anything
  else raises `SendFailed`, within SMTP_TIMEOUT_SECONDS for the whole conversation.
- `SendFailed.permanent` is true only when retrying cannot help this message: the server refused
  the recipient with a 5xx code, or the address needs SMTPUTF8 the server does not offer. Refusals
  that an operator or time can fix (4xx, a refused sender or login, a lost connection, a timeout)
  are not permanent: the sender retries them.
- `starttls` refuses to go on in plain text when the server does not offer STARTTLS; certificates
  are verified (`tls`, `starttls`).
- Header lines are folded at 998 characters (RFC 5322's limit), not 78: a `List-Unsubscribe` URL
  cannot be folded, and the email package would otherwise turn it into RFC 2047 encoded words,
  which mail clients do not read as a URL. So the message is flattened here, not by aiosmtplib.
"""

from __future__ import annotations

import asyncio
import email.policy
from email.message import EmailMessage
from email.utils import getaddresses

import aiosmtplib

from ..settings import Settings


class SendFailed(Exception):
    """The server did not accept the message (the text says why)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


MAX_LINE = 998  # RFC 5322 2.1.1


def _wire(message: EmailMessage) -> tuple[bytes, str, list[str]]:
    """The message as sent (CRLF, long header lines kept whole), its sender and recipients."""
    [(_, sender)] = getaddresses([str(message["From"])])
    recipients = [address for _, address in getaddresses([str(message["To"])])]
    utf8 = not all(address.isascii() for address in [sender, *recipients])
    policy = email.policy.SMTPUTF8 if utf8 else email.policy.SMTP
    return message.as_bytes(policy=policy.clone(max_line_length=MAX_LINE)), sender, recipients


def _limited(text: str) -> str:
    return " ".join(text.split())[:300]


async def deliver(settings: Settings, message: EmailMessage) -> str:
    """Send `message` through SMTP_HOST; return the server's acceptance reply."""
    if settings.smtp_host is None:
        raise SendFailed("SMTP_HOST is unset", permanent=False)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        async with asyncio.timeout(settings.smtp_timeout_seconds):
            data, sender, recipients = _wire(message)
            _refused, reply = await aiosmtplib.send(
                data,
                sender=sender,
                recipients=recipients,
                hostname=settings.smtp_host,
                port=settings.smtp_port_or_default,
                username=settings.smtp_username,
                password=password,
                use_tls=settings.smtp_tls == "tls",
                start_tls=settings.smtp_tls == "starttls",  # False: never try it
                timeout=settings.smtp_timeout_seconds,
                cert_bundle=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
            )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [refusal.code for refusal in error.recipients]
        reasons = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
        raise SendFailed(
            _limited(f"recipient refused: {reasons}"), permanent=all(code >= 500 for code in codes)
        ) from error
    except aiosmtplib.SMTPNotSupported as error:
        raise SendFailed(_limited(f"not supported by the server: {error}"), permanent=True) from (
            error
        )
    except aiosmtplib.SMTPResponseException as error:
        raise SendFailed(
            _limited(f"refused: {error.code} {error.message}"), permanent=False
        ) from error
    except (aiosmtplib.SMTPException, OSError) as error:
        raise SendFailed(_limited(f"{type(error).__name__}: {error}"), permanent=False) from error
    except TimeoutError as error:
        raise SendFailed(
            f"no answer within {settings.smtp_timeout_seconds:g} s", permanent=False
        ) from error
    return _limited(reply) or "accepted"
