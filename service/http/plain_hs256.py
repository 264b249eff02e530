"""The common HS256 token verified in a few microseconds; PyJWT decides everything else.

A stream's connect spent a quarter of its CPU in PyJWT (bench/RESULTS.md, "A stream protocol
of our own"). `plain_hs256_claims` accepts only the token shape this service and most issuers
mint, and only when PyJWT, called as `auth.py` calls it, would accept it with the same claims:

- HS256 configured, with no audience or issuer to check;
- three segments of unpadded, canonical base64url (PyJWT's own rule: re-encoding gives the
  segment back);
- a header of `alg: HS256` and at most `typ: JWT`;
- a signature that one of the ring's secrets makes, every one of which PyJWT's key preparation
  takes without a refusal or a warning (else PyJWT decides, trying them in its order);
- a payload object with a string `sub`, integer `exp`, `iat` and `nbf` (the last two optional),
  `exp` more than a second ahead and `iat`/`nbf` not ahead, and no `aud`, `iss` or `jti`.

Anything else (including every invalid token) returns None, and the caller asks PyJWT, whose
answer and error messages stand. `tests/http/test_plain_hs256.py` checks the narrower-than
rule against PyJWT over many altered tokens.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import re
import time
from typing import Any

import orjson

from .jwt_keys import HS256

_SEGMENT = re.compile(rb"[A-Za-z0-9_-]+")
_HEADERS = ({"alg": "HS256", "typ": "JWT"}, {"alg": "HS256"})
_LEFT_TO_PYJWT = ("aud", "iss", "jti")
_TIME_CLAIMS = ("exp", "iat", "nbf")
_EXPIRY_MARGIN = 1.0  # seconds: closer to `exp` than this, PyJWT decides
_HEADERS_KEPT = 64


def plain_hs256_claims(token: str, secrets: tuple[Any, ...]) -> dict[str, Any] | None:
    """The claims of `token` when it has the plain shape above and verifies; None otherwise."""
    if not token.isascii():
        return None
    raw = token.encode("ascii")
    segments = raw.split(b".")
    if len(segments) != 3:
        return None
    header, payload, signature = segments
    keys = _signing_keys(secrets)
    if not keys or not _plain_header(header):
        return None
    signing_input = raw[: len(header) + 1 + len(payload)]
    # The canonical encoding of the right signature, compared with the segment as sent: the
    # same as decoding the segment canonically and comparing the bytes, without the decode.
    if not any(
        hmac.compare_digest(_encode(hmac.digest(key, signing_input, "sha256")), signature)
        for key in keys
    ):
        return None
    if header not in _plain_headers and len(_plain_headers) < _HEADERS_KEPT:
        _plain_headers.add(header)  # only a signed one: what others send cannot fill it
    decoded = _segment(payload)
    if decoded is None:
        return None
    try:
        claims = orjson.loads(decoded)  # stricter than json (no NaN, 64-bit integers): fine
    except orjson.JSONDecodeError:
        return None
    return claims if _plain_claims(claims) else None


def _encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _segment(segment: bytes) -> bytes | None:
    if len(segment) % 4 == 1 or not _SEGMENT.fullmatch(segment):
        return None
    try:
        decoded = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return None
    if _encode(decoded) != segment:
        return None
    return decoded


_plain_headers: set[bytes] = set()  # plain header segments of verified tokens (issuers mint few)


def _plain_header(segment: bytes) -> bool:
    if segment in _plain_headers:
        return True
    decoded = _segment(segment)
    try:
        return decoded is not None and orjson.loads(decoded) in _HEADERS
    except orjson.JSONDecodeError:
        return False


@functools.lru_cache(maxsize=8)
def _signing_keys(secrets: tuple[Any, ...]) -> tuple[bytes, ...]:
    """The ring's secrets as HMAC keys; none when PyJWT refuses or warns about any of them
    (then PyJWT decides, trying them in its order)."""
    keys = []
    for secret in secrets:
        try:
            key = HS256.prepare_key(secret)
        except Exception:  # PyJWT refuses this secret
            return ()
        if HS256.check_key_length(key) is not None:
            return ()  # PyJWT warns about this secret
        keys.append(key)
    return tuple(keys)


def _plain_claims(claims: object) -> bool:
    if not isinstance(claims, dict) or any(name in claims for name in _LEFT_TO_PYJWT):
        return False
    if type(claims.get("sub")) is not str or "exp" not in claims:
        return False
    for name in _TIME_CLAIMS:
        if name in claims and type(claims[name]) is not int:
            return False
    now = time.time()
    if claims["exp"] <= now + _EXPIRY_MARGIN:
        return False
    return bool(claims.get("iat", 0) <= now and claims.get("nbf", 0) <= now)
