"""Several verification keys at once (service/jwt_keys.py): a rotation with old and new tokens
live together, and a key taken out refused from then on."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from pydantic import SecretStr, ValidationError

from service.http.auth import AuthError, decode_token, mint_token
from service.settings import Settings
from tests.support.server import open_stream, running_server, settings_for

OLD = "old-secret-0123456789-abcdefghijklmnopq"
NEW = "new-secret-9876543210-zyxwvutsrqponmlkj"
STREAM = "/api/v1/notifications/stream"


def hs256(secret: str, *extra: str) -> Settings:
    return Settings(jwt_secret=SecretStr(secret), jwt_extra_secrets=[SecretStr(s) for s in extra])


def test_during_a_rotation_old_and_new_tokens_are_both_valid_on_every_replica() -> None:
    user = uuid.uuid4()
    old_token = mint_token(user, hs256(OLD))
    new_token = mint_token(user, hs256(NEW))
    # Step 1, every replica accepts the next secret; step 2, the issuer signs with it.
    for replica in (hs256(OLD, NEW), hs256(NEW, OLD)):
        assert decode_token(old_token, replica).id == user
        assert decode_token(new_token, replica).id == user
    # Step 3, the old secret taken out: its tokens are refused.
    with pytest.raises(AuthError, match="Signature verification failed"):
        decode_token(old_token, hs256(NEW))
    assert decode_token(new_token, hs256(NEW)).id == user


def test_claims_are_checked_with_the_key_that_signed() -> None:
    expired = mint_token(uuid.uuid4(), hs256(OLD), ttl=timedelta(seconds=-1))
    with pytest.raises(AuthError, match="token expired"):
        decode_token(expired, hs256(NEW, OLD))
    claims = {"sub": str(uuid.uuid4()), "exp": time.time() + 60}
    unsigned = jwt.encode(claims, cast(Any, None), algorithm="none")
    with pytest.raises(AuthError, match="alg value is not allowed"):
        decode_token(unsigned, hs256(NEW, OLD))


def test_extra_secrets_come_from_the_environment_and_must_be_strong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JWT_SECRET", NEW)
    monkeypatch.setenv("JWT_EXTRA_SECRETS", json.dumps([OLD]))
    settings = Settings()
    assert [s.get_secret_value() for s in settings.jwt_extra_secrets] == [OLD]
    assert OLD not in repr(settings)
    monkeypatch.setenv("JWT_EXTRA_SECRETS", '["short"]')
    with pytest.raises(ValidationError, match="JWT_EXTRA_SECRETS must be at least 32 bytes"):
        Settings()
    monkeypatch.setenv("JWT_EXTRA_SECRETS", OLD)
    with pytest.raises(ValidationError, match="JSON list"):
        Settings()
    monkeypatch.delenv("JWT_EXTRA_SECRETS")
    assert Settings().jwt_extra_secrets == []  # the existing variables alone still work


async def test_a_live_rotation_then_the_old_key_removed(database_url: str) -> None:
    user = uuid.uuid4()
    old_token = mint_token(user, hs256(OLD))
    new_token = mint_token(user, hs256(NEW))
    rotating = settings_for(database_url, jwt_secret=NEW, jwt_extra_secrets=[OLD])
    async with (
        running_server(rotating) as server,
        open_stream(server.base_url, old_token) as old_stream,
        open_stream(server.base_url, new_token) as new_stream,
    ):
        assert old_stream.response.status_code == 200
        assert new_stream.response.status_code == 200
        assert server.hub.stream_count(user) == 2
    async with running_server(settings_for(database_url, jwt_secret=NEW)) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            refused = await client.get(STREAM, headers={"Authorization": f"Bearer {old_token}"})
        async with open_stream(server.base_url, new_token) as stream:
            assert stream.response.status_code == 200
    assert refused.status_code == 401


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def write_jwks(path: Path, keys: dict[str, rsa.RSAPrivateKey]) -> None:
    entries: list[dict[str, Any]] = []
    for kid, key in keys.items():
        entry = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        entries.append({**entry, "kid": kid, "use": "sig", "alg": "RS256"})
    previous = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(json.dumps({"keys": entries}))
    os.utime(path, ns=(previous + 10**9, previous + 10**9))  # a change, even within one tick


def rs256(key: rsa.RSAPrivateKey, user: uuid.UUID, kid: str | None) -> str:
    claims = {"sub": str(user), "exp": int(time.time()) + 600}
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def test_a_jwks_file_picks_the_key_by_kid_and_follows_its_changes(tmp_path: Path) -> None:
    first, second, legacy = rsa_key(), rsa_key(), rsa_key()
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, {"2026-11": first, "2026-12": second})
    settings = Settings(jwt_algorithm="RS256", jwt_public_key=pem(legacy), jwt_jwks_file=jwks)
    user = uuid.uuid4()
    for token in (
        rs256(first, user, "2026-11"),
        rs256(second, user, "2026-12"),
        rs256(second, user, None),  # no kid: every key is tried
        rs256(legacy, user, None),  # JWT_PUBLIC_KEY keeps working beside the file
    ):
        assert decode_token(token, settings).id == user
    with pytest.raises(AuthError, match="Signature verification failed"):
        decode_token(rs256(second, user, "2026-11"), settings)  # the kid names another key
    write_jwks(jwks, {"2026-12": second})  # the old key retired, the process still running
    with pytest.raises(AuthError, match="Signature verification failed"):
        decode_token(rs256(first, user, "2026-11"), settings)
    assert decode_token(rs256(second, user, "2026-12"), settings).id == user
    jwks.write_text("not json")  # a broken rewrite keeps the keys read last
    os.utime(jwks, ns=(1, 1))
    assert decode_token(rs256(second, user, "2026-12"), settings).id == user


def test_a_jwks_file_must_hold_a_public_rsa_key(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}))
    with pytest.raises(ValidationError, match="no RSA public key"):
        Settings(jwt_algorithm="RS256", jwt_jwks_file=jwks)
    with pytest.raises(ValidationError, match="not a readable JWK Set"):
        Settings(jwt_algorithm="RS256", jwt_jwks_file=tmp_path / "missing.json")
    write_jwks(jwks, {"k": rsa_key()})
    with pytest.raises(ValidationError, match="JWT_ALGORITHM=RS256"):
        Settings(jwt_secret=SecretStr(NEW), jwt_jwks_file=jwks)
    with pytest.raises(ValidationError, match="JWT_EXTRA_SECRETS verify HS256"):
        Settings(jwt_algorithm="RS256", jwt_extra_secrets=[SecretStr(OLD)])
