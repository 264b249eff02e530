"""`POST`/`DELETE /api/v1/session` and the attributes of the `access_token` cookie."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from http.cookies import Morsel, SimpleCookie
from typing import Any, Literal

import httpx
import jwt
import pytest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from service.http.cookies import clear_token_cookie, set_token_cookie
from service.settings import Settings
from tests.support.server import SECRET, RunningServer, open_stream, running_server, settings_for

ALLOWED = "https://app.example"
SESSION = "/api/v1/session"


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    # A front end on another site: the cookie must be SameSite=None (and so Secure).
    return settings_for(database_url, cors_origins=[ALLOWED], cookie_samesite="none")


def the_cookie(response: httpx.Response | Response) -> Morsel[str]:
    headers = (
        response.headers.get_list("set-cookie")
        if isinstance(response, httpx.Response)
        else response.headers.getlist("set-cookie")
    )
    assert len(headers) == 1, headers
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    return jar["access_token"]


def expiring_in(server: RunningServer, seconds: int) -> tuple[str, datetime]:
    user = uuid.uuid4()
    token = server.token(user, ttl=timedelta(seconds=seconds))
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    return token, datetime.fromtimestamp(exp, UTC)


async def post_session(server: RunningServer, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        return await client.post(SESSION, headers=headers)


async def test_a_bearer_token_becomes_the_cookie_for_its_remaining_lifetime(
    server: RunningServer,
) -> None:
    token, expires_at = expiring_in(server, 600)
    response = await post_session(server, Authorization=f"Bearer {token}", Origin=ALLOWED)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "user_id": jwt.decode(token, SECRET, algorithms=["HS256"])["sub"],
        "expires_at": body["expires_at"],
    }
    assert datetime.fromisoformat(body["expires_at"]) == expires_at
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-credentials"] == "true"
    cookie = the_cookie(response)
    assert cookie.value == token
    assert cookie["httponly"] is True
    assert cookie["secure"] is True  # forced by SameSite=None, although this is plain HTTP
    assert cookie["samesite"].lower() == "none"
    assert cookie["path"] == "/"
    assert 595 <= int(cookie["max-age"]) <= 600


async def test_the_cookie_then_opens_the_stream_and_the_api(server: RunningServer) -> None:
    token, _ = expiring_in(server, 600)
    cookie = the_cookie(await post_session(server, Authorization=f"Bearer {token}")).value
    async with open_stream(server.base_url, cookie, cookie=True) as stream:
        assert stream.response.status_code == 200
        assert (await stream.next()).event == "connected"
    async with httpx.AsyncClient(base_url=server.base_url, cookies={"access_token": cookie}) as c:
        me = await c.get("/api/v1/me")
    assert me.status_code == 200


DAY = 86400


def _bad_tokens() -> list[Any]:
    # Built at collection: valid for a day, so a long run cannot turn them into "expired".
    now = int(time.time())
    user = str(uuid.uuid4())
    return [
        pytest.param({}, "missing token", id="missing"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, "malformed", id="basic"),
        pytest.param({"Authorization": "Bearer"}, "malformed", id="empty-bearer"),
        pytest.param({"Authorization": "Bearer not-a-token"}, "invalid token", id="garbage"),
        pytest.param(
            {"Authorization": "Bearer " + jwt.encode({"sub": user, "exp": now - 5}, SECRET)},
            "token expired",
            id="expired",
        ),
        pytest.param(
            {"Authorization": "Bearer " + jwt.encode({"sub": user, "exp": now + DAY}, "x" * 40)},
            "invalid token",
            id="wrong-secret",
        ),
        pytest.param(
            {"Authorization": "Bearer " + jwt.encode({"sub": "alice", "exp": now + DAY}, SECRET)},
            "not a UUID",
            id="sub-not-uuid",
        ),
    ]


@pytest.mark.parametrize(("headers", "reason"), _bad_tokens())
async def test_a_bad_or_missing_token_is_a_401_and_sets_no_cookie(
    server: RunningServer, headers: dict[str, str], reason: str
) -> None:
    response = await post_session(server, Origin=ALLOWED, **headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert reason in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "set-cookie" not in response.headers
    assert response.headers["access-control-allow-origin"] == ALLOWED  # the app can read why


async def test_the_cookie_alone_does_not_open_a_session(server: RunningServer) -> None:
    cookies = {"access_token": server.token(uuid.uuid4())}
    async with httpx.AsyncClient(base_url=server.base_url, cookies=cookies) as client:
        # Same origin (past the CSRF check): still only a Bearer token opens a session.
        response = await client.post(SESSION, headers={"Origin": server.base_url})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


async def test_delete_clears_the_cookie_with_the_same_attributes(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.delete(SESSION, headers={"Origin": ALLOWED})
    assert response.status_code == 204
    assert response.content == b""
    cookie = the_cookie(response)
    assert cookie.value == ""
    assert cookie["max-age"] == "0"
    assert cookie["samesite"].lower() == "none"
    assert cookie["secure"] is True
    assert response.headers["access-control-allow-origin"] == ALLOWED


async def test_the_development_login_sets_the_same_cookie(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        login = await client.post("/api/v1/dev/login", json={"user_id": str(uuid.uuid4())})
        logout = await client.post("/api/v1/dev/logout")
    cookie = the_cookie(login)
    assert (cookie["samesite"].lower(), cookie["secure"], cookie["httponly"]) == (
        "none",
        True,
        True,
    )
    assert 12 * 3600 - 5 <= int(cookie["max-age"]) <= 12 * 3600
    cleared = the_cookie(logout)
    assert (cleared["max-age"], cleared["samesite"].lower(), cleared["secure"]) == (
        "0",
        "none",
        True,
    )


async def test_by_default_the_cookie_is_lax_and_secure_only_over_https(
    database_url: str,
) -> None:
    async with running_server(settings_for(database_url)) as server:
        token, _ = expiring_in(server, 60)
        plain = await post_session(server, Authorization=f"Bearer {token}")
        # From a trusted proxy (uvicorn trusts 127.0.0.1 by default) that terminated TLS.
        proxied = await post_session(
            server, Authorization=f"Bearer {token}", **{"X-Forwarded-Proto": "https"}
        )
    for response in (plain, proxied):
        assert response.status_code == 200
        assert the_cookie(response)["samesite"].lower() == "lax"
        assert the_cookie(response)["httponly"] is True
    assert the_cookie(plain)["secure"] == ""
    assert the_cookie(proxied)["secure"] is True


def _request(scheme: str) -> Request:
    headers = [(b"host", b"api.example")]
    return Request({"type": "http", "scheme": scheme, "headers": headers, "path": "/"})


@pytest.mark.parametrize(
    ("samesite", "secure", "scheme", "expected"),
    [
        ("lax", "auto", "http", ("lax", False)),
        ("lax", "auto", "https", ("lax", True)),
        ("strict", "auto", "http", ("strict", False)),
        ("strict", True, "http", ("strict", True)),
        ("lax", False, "https", ("lax", False)),
        ("none", "auto", "http", ("none", True)),
        ("none", True, "https", ("none", True)),
    ],
)
def test_cookie_attributes_follow_the_settings(
    samesite: Literal["lax", "strict", "none"],
    secure: bool | Literal["auto"],
    scheme: str,
    expected: tuple[str, bool],
) -> None:
    settings = Settings(cookie_samesite=samesite, cookie_secure=secure)
    opened, cleared = Response(), Response()
    expires_at = datetime.now(UTC) + timedelta(minutes=1)
    set_token_cookie(opened, _request(scheme), settings, "t", expires_at)
    clear_token_cookie(cleared, _request(scheme), settings)
    for response in (opened, cleared):
        cookie = the_cookie(response)
        assert (cookie["samesite"].lower(), cookie["secure"] is True) == expected
        assert cookie["httponly"] is True


def test_cookie_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().cookie_samesite, Settings().cookie_secure) == ("lax", "auto")
    monkeypatch.setenv("COOKIE_SAMESITE", "None")
    monkeypatch.setenv("COOKIE_SECURE", "true")
    assert (Settings().cookie_samesite, Settings().cookie_secure) == ("none", True)
    monkeypatch.setenv("COOKIE_SAMESITE", "sometimes")
    with pytest.raises(ValidationError, match="cookie_samesite"):
        Settings()


def test_samesite_none_without_secure_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOKIE_SAMESITE", "none")
    monkeypatch.setenv("COOKIE_SECURE", "false")
    with pytest.raises(ValidationError, match="COOKIE_SAMESITE=none needs a Secure cookie"):
        Settings()


async def test_the_session_endpoints_are_documented(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        document = (await client.get("/openapi.json")).json()
    post = document["paths"][SESSION]["post"]
    assert post["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SessionOut"
    }
    assert "Set-Cookie" in post["responses"]["200"]["headers"]
    assert post["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert set(document["components"]["schemas"]["SessionOut"]["required"]) == {
        "user_id",
        "expires_at",
    }
    assert "204" in document["paths"][SESSION]["delete"]["responses"]
