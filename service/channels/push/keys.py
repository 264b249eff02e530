"""VAPID keys and browser subscription keys: P-256, in the base64url forms browsers use.

Guarantees: a key that `parse_*` accepts is a valid point (or scalar) on P-256; a VAPID pair
that `check_pair` accepts is a private key and its own public key.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

POINT_BYTES = 65  # uncompressed P-256 point: 0x04 || x || y
AUTH_BYTES = 16  # a subscription's auth secret


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as browsers write keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Bytes of base64url `text` (padding optional); ValueError when it is not base64url."""
    stripped = text.rstrip("=")
    if not stripped or any(c not in _ALPHABET for c in stripped) or len(stripped) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as error:  # pragma: no cover - the alphabet is checked
        raise ValueError("not base64url") from error


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def parse_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key in base64url `text` (uncompressed point); else ValueError."""
    raw = b64url_decode(text)
    if len(raw) != POINT_BYTES or raw[0] != 4:
        raise ValueError(f"must be a {POINT_BYTES}-byte uncompressed P-256 point")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key in base64url `text`: the raw 32-byte scalar, or DER."""
    raw = b64url_decode(text.replace("\n", ""))
    if len(raw) == 32:
        value = int.from_bytes(raw, "big")
        return ec.derive_private_key(value, ec.SECP256R1())
    key = serialization.load_der_private_key(raw, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 private key")
    return key


def public_point(key: ec.EllipticCurvePublicKey) -> bytes:
    """The uncompressed point of `key`."""
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def check_pair(public: str, private: str) -> None:
    """ValueError unless `private` is a P-256 key whose public key is `public`."""
    try:
        public_key = parse_public_key(public)
    except ValueError as error:
        raise ValueError(f"VAPID_PUBLIC_KEY: {error}") from error
    try:
        private_key = parse_private_key(private)
    except ValueError as error:
        raise ValueError(f"VAPID_PRIVATE_KEY: {error}") from None
    if public_point(private_key.public_key()) != public_point(public_key):
        raise ValueError("VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY")


def new_pair() -> tuple[str, str]:
    """A new VAPID pair: (public, private) in base64url (point, raw scalar)."""
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url_encode(public_point(key.public_key())), b64url_encode(scalar)
