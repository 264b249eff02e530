"""DKIM signatures (RFC 6376) of the emails this service sends, made in-process with dkimpy.

Guarantees:
- With DKIM_SELECTOR, DKIM_DOMAIN and a private key (DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE)
  set, every email (digests and confirmations) is signed as it goes on the wire, over the bytes
  sent: relaxed/relaxed canonicalisation, rsa-sha256 (an RSA key in PEM, 2048 bits advised),
  covering `SIGNED` (those present): RFC 8058 one-click needs List-Unsubscribe and
  List-Unsubscribe-Post under the signature. Unset: nothing is signed.
- A key that cannot sign refuses to start (the settings try it), not at the first send.
- The public key is published by the operator as a TXT record at SELECTOR._domainkey.DOMAIN
  (docs/deployment.md); nothing here looks up DNS.
"""

from __future__ import annotations

import dkim

SIGNED = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"Reply-To",
    b"List-Id",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"Feedback-ID",
    b"MIME-Version",
    b"Content-Type",
)
_PROBE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: probe\r\n\r\nprobe\r\n"


class Signer:
    """Signs messages for one selector and domain with one private key (PEM)."""

    def __init__(self, selector: str, domain: str, private_key: bytes) -> None:
        self._selector = selector.encode("ascii")
        self._domain = domain.encode("ascii")
        self._key = private_key

    def sign(self, data: bytes) -> bytes:
        """`data` (a whole message, CRLF line ends) with its DKIM-Signature header first."""
        present = {line.split(b":", 1)[0].strip().lower() for line in _head(data)}
        headers = [name for name in SIGNED if name.lower() in present]
        signature: bytes = dkim.sign(
            data,
            self._selector,
            self._domain,
            self._key,
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=b"rsa-sha256",
            include_headers=headers,
        )
        return signature + data

    def check(self) -> None:
        """ValueError unless the key can sign."""
        try:
            self.sign(_PROBE)
        except (dkim.DKIMException, ValueError, TypeError) as error:
            raise ValueError(f"the DKIM private key cannot sign: {error}") from error


def _head(data: bytes) -> list[bytes]:
    head = data.split(b"\r\n\r\n", 1)[0]
    return [line for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]
