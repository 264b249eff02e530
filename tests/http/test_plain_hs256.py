"""The plain HS256 path (service/http/plain_hs256.py) accepts only what PyJWT accepts, with the
same claims, and does accept the tokens this service mints."""

from __future__ import annotations

import base64
import hmac
import json
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from service.http import plain_hs256
from service.http.plain_hs256 import plain_hs256_claims

SECRET = "plain-hs256-test-secret-0123456789abcdef"
OTHER = "another-secret-of-enough-length-0123456789"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims: dict[str, Any], header: dict[str, Any] | None = None, key: str = SECRET) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers=header)


def pyjwt(text: str, keys: list[str]) -> dict[str, Any] | None:
    """What `auth._claims` gets from PyJWT for this configuration (HS256, no aud/iss)."""
    for key in keys:
        try:
            claims: dict[str, Any] = jwt.decode(
                text,
                key,
                algorithms=["HS256"],
                options={"require": ["exp", "sub"], "verify_aud": False, "verify_iss": False},
            )
        except jwt.InvalidSignatureError:
            continue
        except (jwt.InvalidTokenError, OverflowError, ValueError, TypeError):
            return None
        return claims
    return None


def agrees(text: str, keys: list[str] | None = None) -> dict[str, Any] | None:
    """The plain path's answer, checked: whatever it accepts PyJWT accepts, identically."""
    keys = keys if keys is not None else [SECRET]
    plain = plain_hs256_claims(text, tuple(keys))
    if plain is not None:
        assert pyjwt(text, keys) == plain, text
    return plain


def now() -> int:
    return int(time.time())


def base(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": str(uuid.uuid4()), "iat": now(), "exp": now() + 600}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not ...}


def test_the_tokens_this_service_mints_take_the_plain_path() -> None:
    for claims in (
        base(),
        base(iat=...),
        base(nbf=now() - 5, roles=["admin"], name="Ada"),
        base(role="admin", extra={"nested": [1, 2]}),
    ):
        assert agrees(token(claims)) == claims
    assert agrees(token(base(), key=OTHER), [SECRET, OTHER]) is not None  # a rotated key
    # A secret PyJWT refuses, ahead of the one that signed: PyJWT decides (and raises).
    refused = (
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"
    )
    assert plain_hs256_claims(token(base()), (refused, SECRET)) is None


@pytest.mark.parametrize(
    ("claims", "header", "key"),
    [
        (lambda: base(exp=now() - 1), None, SECRET),  # expired
        (lambda: base(exp=now()), None, SECRET),  # expiring this second: PyJWT decides
        (lambda: base(exp=float(now() + 600)), None, SECRET),
        (lambda: base(exp="9999999999"), None, SECRET),
        (lambda: base(exp=...), None, SECRET),
        (lambda: base(exp=True), None, SECRET),
        (
            lambda: base(exp=10**30),
            None,
            SECRET,
        ),  # past 64 bits: PyJWT decides (auth.py refuses it)
        (lambda: base(sub=42), None, SECRET),
        (lambda: base(sub=None), None, SECRET),
        (lambda: base(sub=...), None, SECRET),
        (lambda: base(iat=now() + 60), None, SECRET),
        (lambda: base(iat=1.5), None, SECRET),
        (lambda: base(nbf=now() + 60), None, SECRET),
        (lambda: base(aud="someone"), None, SECRET),
        (lambda: base(iss="someone"), None, SECRET),
        (lambda: base(jti=7), None, SECRET),
        (lambda: base(), {"kid": "k1"}, SECRET),
        (lambda: base(), {"typ": "at+jwt"}, SECRET),
        (lambda: base(), {"crit": ["b64"], "b64": False}, SECRET),
        (lambda: base(), None, OTHER),  # not one of ours
        (lambda: base(), None, "short"),  # a secret PyJWT warns about
    ],
)
def test_anything_unusual_is_left_to_pyjwt(
    claims: Callable[[], dict[str, Any]], header: dict[str, Any] | None, key: str
) -> None:
    # Made now, not at collection: a token made minutes earlier would be refused as expired.
    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning) if key == "short" else _nothing():
        text = token(claims(), header, key)
    keys = ["short"] if key == "short" else [SECRET]
    assert agrees(text, keys) is None


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def test_other_algorithms_and_forged_shapes_are_left_to_pyjwt() -> None:
    claims = base()
    body = b64(json.dumps(claims).encode())
    for header in ({"alg": "none"}, {"alg": "HS512"}, {"alg": "RS256"}, {"alg": "HS256", "x": 1}):
        head = b64(json.dumps(header).encode())
        assert agrees(f"{head}.{body}.") is None
        assert agrees(f"{head}.{body}.{b64(b'x' * 32)}") is None
    good = token(claims)
    while "-" not in good.split(".")[2] and "_" not in good.split(".")[2]:
        good = token(base(nonce=uuid.uuid4().hex))  # a signature base64 spells differently
    head, payload, signature = good.split(".")
    for text in (
        f"{head}.{payload}.{signature}=",  # padded
        f"{head}=.{payload}.{signature}",
        f"{head}.{payload}.{signature}.",  # a fourth segment
        f"{head}.{payload}",
        f"{head}.{payload}.{signature[:-1]}",
        f"{head}.{payload}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{head}.{payload}.{signature}\u00e9",
        f" {good}",
    ):
        assert agrees(text) is None, text
    standard = signature.replace("-", "+").replace("_", "/")  # base64, not base64url
    assert agrees(f"{head}.{payload}.{standard}") is None


def test_no_altered_token_is_accepted_that_pyjwt_refuses() -> None:
    randomness = random.Random(25)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="
    originals = [token(base()), token(base(nbf=now() - 1, roles=["a"]))]
    accepted = 0
    for _ in range(3000):
        chars = list(randomness.choice(originals))
        for _ in range(randomness.randint(1, 3)):
            chars[randomness.randrange(len(chars))] = randomness.choice(alphabet)
        if agrees("".join(chars)) is not None:
            accepted += 1
    # A change the base64 cannot see (the spare bits of a last character) leaves a token PyJWT
    # refuses as non-canonical, and so must this path: nothing altered gets through.
    assert accepted <= 3000 * 0.01


def test_only_signed_headers_are_remembered_and_only_a_few(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A header segment of a verified token is remembered (no decoding it again), a few at
    # most; what a client sends without the secret is never kept, so it cannot crowd them out.
    monkeypatch.setattr(plain_hs256, "_plain_headers", set())
    claims = base()
    for spaces in range(100):
        header = json.dumps({"alg": "HS256"}, separators=(",", ":" + " " * spaces))
        assert agrees(jwt_token(header, claims, key=OTHER)) is None
    assert not plain_hs256._plain_headers
    for spaces in range(100):
        header = json.dumps({"alg": "HS256"}, separators=(",", ":" + " " * spaces))
        assert agrees(jwt_token(header, claims)) == claims
    assert len(plain_hs256._plain_headers) == plain_hs256._HEADERS_KEPT


def jwt_token(header: str, claims: dict[str, Any], key: str = SECRET) -> str:
    """`claims` signed with `key` under this exact header text."""
    signing_input = f"{b64(header.encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.digest(key.encode(), signing_input.encode(), "sha256")
    return f"{signing_input}.{b64(signature)}"
