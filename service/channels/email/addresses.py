"""Email addresses, parsed by email-validator (syntax only: no DNS lookup on a request path).

Guarantees: what `student_address` returns is one plain address (no display name, no comment),
normalised (the domain lower-cased, Unicode in NFC) and at most 254 characters (the longest an
SMTP path allows); anything else is a ValueError whose text says what is wrong.
"""

from __future__ import annotations

import ipaddress
from email.utils import formataddr, getaddresses, parseaddr

import idna
from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS = 254  # RFC 5321: the longest forward-path


def student_address(text: str) -> str:
    """The normalised form of one address a student typed; else ValueError."""
    if len(text) > MAX_ADDRESS:
        raise ValueError(f"an email address has at most {MAX_ADDRESS} characters")
    if "=?" in text:  # an RFC 2047 encoded word: a header would read it as another address
        raise ValueError("not an email address: it may not contain '=?'")
    try:
        parsed = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not an email address: {error}") from error
    return str(parsed.normalized)


def check_sender(text: str, setting: str = "EMAIL_FROM") -> str:
    """EMAIL_FROM (or `setting`) as a header value: `addr` or `Name <addr>` with a valid
    address; else ValueError."""
    found = getaddresses([text])
    if "\r" in text or "\n" in text or len(found) != 1:
        raise ValueError(f"{setting} must be one address on one line: {text!r}")
    name, address = found[0]
    if not address:
        raise ValueError(f"{setting} must be addr@example.com or Name <addr@example.com>: {text!r}")
    try:
        normalised = student_address(address)
    except ValueError as error:
        raise ValueError(f"{setting}: {error}") from error
    return formataddr((name, normalised)) if name else normalised


def plain_address(address: str) -> str:
    """The address of a plain or `Name <addr>` address."""
    return parseaddr(address)[1]


def domain_of(address: str) -> str:
    """The domain of a plain or `Name <addr>` address (for Message-IDs)."""
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost or a loopback address)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def mailbox_key(address: str) -> str:
    """The mailbox a normalised `address` reaches, for counting what is sent to it: the local
    part case-folded and without a `+tag`, the domain in its ASCII (IDNA) form. Coarser than
    the address on purpose: variants a mail server delivers to one mailbox count as one."""
    local, _, domain = address.rpartition("@")
    untagged = local.split("+", 1)[0] or local
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        domain = domain.casefold()
    return f"{untagged.casefold()}@{domain.lower()}"
