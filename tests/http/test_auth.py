"""Authentication of the stream: every bad token is a 401 with a JSON error and no stream."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from service.http.auth import AuthError, decode_token, mint_token
from service.http.routes.dev import ACCEPTED, DEV_NAMES
from service.settings import Settings
from tests.support.server import SECRET, RunningServer, open_stream, running_server, settings_for

STREAM = "/api/v1/notifications/stream"


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _hs256(claims: dict[str, object], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _later(seconds: int = 600) -> int:
    return int(time.time()) + seconds


BAD_TOKENS = {
    "wrong-signature": _hs256(
        {"sub": str(uuid.uuid4()), "exp": _later()}, "another-secret-another-secret-another"
    ),
    "alg-none": _unsigned({"sub": str(uuid.uuid4()), "exp": _later()}),
    "expired": _hs256({"sub": str(uuid.uuid4()), "exp": _later(-60)}),
    "no-exp": _hs256({"sub": str(uuid.uuid4())}),
    "no-sub": _hs256({"exp": _later()}),
    "sub-not-uuid": _hs256({"sub": "alice", "exp": _later()}),
    "garbage": "not.a.jwt",
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
@pytest.mark.parametrize("where", ["header", "cookie"])
async def test_bad_tokens_get_401(server: RunningServer, name: str, where: str) -> None:
    token = BAD_TOKENS[name]
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        if where == "header":
            response = await client.get(STREAM, headers={"Authorization": f"Bearer {token}"})
        else:
            client.cookies.set("access_token", token)
            response = await client.get(STREAM)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["detail"], str)
    assert server.hub.stream_count() == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}],
    ids=["missing", "basic", "empty-bearer"],
)
async def test_missing_or_malformed_header_gets_401(
    server: RunningServer, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get(STREAM, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"]


async def test_cookie_token_opens_the_stream(server: RunningServer) -> None:
    async with open_stream(server.base_url, server.token(uuid.uuid4()), cookie=True) as stream:
        assert stream.response.status_code == 200


async def test_dev_login_sets_an_httponly_cookie_that_opens_the_stream(
    server: RunningServer,
) -> None:
    user = uuid.uuid4()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post("/api/v1/dev/login", json={"user_id": str(user)})
        assert response.status_code == 200
        assert "httponly" in response.headers["set-cookie"].lower()
        async with client.stream("GET", STREAM) as stream:
            assert stream.status_code == 200
            assert server.hub.stream_count(user) == 1


async def test_dev_login_mints_an_admin_only_when_asked(server: RunningServer) -> None:
    analytics = "/api/v1/admin/analytics"
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        await client.post("/api/v1/dev/login", json={"user_id": str(uuid.uuid4())})
        assert (await client.get(analytics)).status_code == 403
        response = await client.post(
            "/api/v1/dev/login", json={"user_id": str(uuid.uuid4()), "admin": True}
        )
        assert response.status_code == 200
        assert (await client.get(analytics)).status_code == 200


async def test_dev_login_takes_a_name_as_the_same_user_each_time(server: RunningServer) -> None:
    users = []
    for name in ("alice", "Alice", "alice"):
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            response = await client.post("/api/v1/dev/login", json={"user_id": name})
            assert response.status_code == 200, response.text
            me = (await client.get("/api/v1/me")).json()
            assert me["user_id"] == response.json()["user_id"]
            users.append(uuid.UUID(me["user_id"]))
    assert users[0] == users[1] == users[2]
    assert users[0] == uuid.uuid5(DEV_NAMES, "alice")
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        bob = await client.post("/api/v1/dev/login", json={"user_id": "bob"})
    assert uuid.UUID(bob.json()["user_id"]) != users[0]


async def test_me_names_the_student_a_dev_login_names(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        await client.post("/api/v1/dev/login", json={"user_id": "Amelia"})
        assert (await client.get("/api/v1/me")).json()["name"] == "Amelia"  # as typed
        await client.post("/api/v1/dev/login", json={"user_id": str(uuid.uuid4())})
        assert (await client.get("/api/v1/me")).json()["name"] is None  # a UUID names no one


@pytest.mark.parametrize(
    ("claim", "shown"),
    [
        ("Amelia Earhart", "Amelia Earhart"),
        ("<b>Amelia</b>", "<b>Amelia</b>"),  # text: the page shows it as text
        ("  Amelia\n\tE.\u202e ", "Amelia E."),  # control and bidi characters go
        ("a" * 200, "a" * 63 + "…"),  # bounded
        ("   ", None),
        (42, None),
        (["Amelia"], None),
    ],
)
async def test_me_names_the_student_a_tokens_name_claim_names(
    server: RunningServer, claim: object, shown: str | None
) -> None:
    token = _hs256({"sub": str(uuid.uuid4()), "exp": _later(), "name": claim})
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["name"] == shown


@pytest.mark.parametrize("user_id", ["two words", "", "x" * 65, "-alice", "zoë", 42, None])
async def test_dev_login_rejects_a_bad_user_id_saying_what_is_accepted(
    server: RunningServer, user_id: object
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post("/api/v1/dev/login", json={"user_id": user_id})
        assert response.status_code == 422
        [problem] = response.json()["detail"]
        assert problem["loc"] == ["body", "user_id"]
        assert problem["msg"] == ACCEPTED
        assert "set-cookie" not in response.headers


async def test_dev_login_is_absent_when_disabled(database_url: str) -> None:
    async with (
        running_server(settings_for(database_url, dev_login=False)) as running,
        httpx.AsyncClient(base_url=running.base_url) as client,
    ):
        response = await client.post("/api/v1/dev/login", json={"user_id": str(uuid.uuid4())})
    assert response.status_code == 404


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_rs256_with_a_public_key() -> None:
    private, public = _rsa_pair()
    settings = Settings(jwt_algorithm="RS256", jwt_public_key=public)
    user = uuid.uuid4()
    token = mint_token(user, settings, private_key=private)
    assert decode_token(token, settings).id == user
    # An HS256 token signed with the public key as secret (algorithm confusion) is refused.
    forged = jwt.encode({"sub": str(user), "exp": _later()}, "x" * 32, algorithm="HS256")
    with pytest.raises(AuthError):
        decode_token(forged, settings)


def test_audience_and_issuer_are_checked_when_set() -> None:
    settings = Settings(
        jwt_secret=SecretStr(SECRET), jwt_audience="vividly", jwt_issuer="https://idp"
    )
    user = uuid.uuid4()
    assert decode_token(mint_token(user, settings), settings).id == user
    wrong_audience = _hs256(
        {"sub": str(user), "exp": _later(), "aud": "other", "iss": "https://idp"}
    )
    with pytest.raises(AuthError, match=r"(?i)audience"):
        decode_token(wrong_audience, settings)
    no_issuer = _hs256({"sub": str(user), "exp": _later(), "aud": "vividly"})
    with pytest.raises(AuthError, match="iss"):
        decode_token(no_issuer, settings)


def test_expiry_is_reported() -> None:
    settings = Settings(jwt_secret=SecretStr(SECRET))
    token = mint_token(uuid.uuid4(), settings, ttl=timedelta(seconds=-1))
    with pytest.raises(AuthError, match="expired"):
        decode_token(token, settings)


@pytest.mark.parametrize(
    "form", [str, lambda u: u.hex, lambda u: f"{{{u}}}", lambda u: u.urn, lambda u: str(u).upper()]
)
async def test_dev_login_takes_every_spelling_of_a_uuid_as_that_user(
    server: RunningServer, form: Any
) -> None:
    user = uuid.uuid4()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post("/api/v1/dev/login", json={"user_id": form(user)})
        assert response.status_code == 200, response.text
        assert (await client.get("/api/v1/me")).json()["user_id"] == str(user)
