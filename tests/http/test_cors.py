"""CORS over a real socket: credentialed headers for CORS_ORIGINS, none at all for other origins."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from pydantic import ValidationError

from service.http.routes import stream as stream_route
from service.settings import Settings
from tests.support.server import RunningServer, running_server, settings_for

ALLOWED = "https://app.example"
FOREIGN = "https://evil.example"
STREAM = "/api/v1/notifications/stream"
UNREAD = "/api/v1/notifications/unread-count"
READ_ALL = "/api/v1/notifications/read-all"


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(database_url, cors_origins=[ALLOWED], max_streams_per_user=1)


def cors(response: httpx.Response) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.lower().startswith("access-control-")
    }


def assert_credentialed(response: httpx.Response) -> None:
    headers = cors(response)
    assert headers["access-control-allow-origin"] == ALLOWED
    assert headers["access-control-allow-credentials"] == "true"
    assert "origin" in response.headers["vary"].lower()


@asynccontextmanager
async def client(server: RunningServer, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=10) as c:
        yield c


def bearer(server: RunningServer, user: uuid.UUID | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(user or uuid.uuid4())}"}


def preflight(method: str, headers: str) -> dict[str, str]:
    return {"Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origins",
    [
        ["https://app.example"],
        ["http://127.0.0.1:5173", "http://localhost:3000"],
        ["https://app.example:8443", "http://[::1]:8000"],
        [],
    ],
)
def test_plain_origins_are_accepted(origins: list[str]) -> None:
    assert Settings(cors_origins=origins).cors_origins == origins


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        ("*", "'*' is refused"),
        ("https://*.example", "is not an origin"),
        ("https://app.example/", "is not an origin"),
        ("https://app.example/path", "is not an origin"),
        ("https://App.Example", "is not an origin"),
        ("app.example", "is not an origin"),
        ("null", "is not an origin"),
        ("https://user@app.example", "is not an origin"),
        ("https://app.example?x=1", "is not an origin"),
        ("https://app.example:0", "is not an origin"),
        ("https://app.example:70000", "is not an origin"),
        ("https://app.example:443", "default port"),
        ("http://app.example:80", "default port"),
        (" https://app.example", "is not an origin"),
    ],
)
def test_wildcards_and_malformed_origins_are_refused(origin: str, reason: str) -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS") as refused:
        Settings(cors_origins=["https://ok.example", origin])
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("*", "'*' is refused"),
        ('["*"]', "'*' is refused"),
        ("https://app.example", "must be a JSON list"),
        ('"https://app.example"', "must be a JSON list"),
        ('{"origin": "https://app.example"}', "must be a JSON list"),
        ('["https://app.example/"]', "is not an origin"),
    ],
)
def test_the_environment_variable_is_a_json_list_of_origins(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)
    with pytest.raises(ValidationError, match="CORS_ORIGINS") as refused:
        Settings()
    assert reason in str(refused.value)


def test_the_environment_variable_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", '["https://a.example", "http://localhost:5173"]')
    assert Settings().cors_origins == ["https://a.example", "http://localhost:5173"]
    monkeypatch.delenv("CORS_ORIGINS")
    assert Settings().cors_origins == []


# --- an allowed origin ------------------------------------------------------------------------


async def test_an_allowed_origin_gets_credentialed_cors_on_rest(server: RunningServer) -> None:
    async with client(server, Origin=ALLOWED) as c:
        ok = await c.get(UNREAD, headers=bearer(server))
        unauthorized = await c.get(UNREAD)
        invalid = await c.get("/api/v1/notifications/history?limit=0", headers=bearer(server))
    assert ok.status_code == 200
    assert_credentialed(ok)
    assert cors(ok)["access-control-expose-headers"] == "WWW-Authenticate"
    assert unauthorized.status_code == 401
    assert_credentialed(unauthorized)
    assert invalid.status_code == 422
    assert_credentialed(invalid)


async def test_an_allowed_origin_gets_cors_on_static_files_and_the_page(
    server: RunningServer,
) -> None:
    async with client(server, Origin=ALLOWED) as c:
        page = await c.get("/")
        static = await c.get("/static/index.html")
    assert page.status_code == static.status_code == 200
    assert_credentialed(page)
    assert_credentialed(static)


@pytest.mark.parametrize(
    ("path", "method", "requested"),
    [
        (READ_ALL, "POST", "authorization, content-type"),
        ("/api/v1/notifications/preferences", "PUT", "content-type"),
        ("/api/v1/notifications/42", "DELETE", "authorization"),
        ("/api/v1/session", "POST", "authorization"),
        (STREAM, "GET", "last-event-id"),
        (STREAM, "GET", "authorization,last-event-id"),
    ],
)
async def test_an_allowed_origin_passes_preflight(
    server: RunningServer, path: str, method: str, requested: str
) -> None:
    async with client(server, Origin=ALLOWED) as c:
        response = await c.options(path, headers=preflight(method, requested))
    assert response.status_code == 200
    assert_credentialed(response)
    headers = cors(response)
    assert method in headers["access-control-allow-methods"].split(", ")
    allowed = {h.lower() for h in headers["access-control-allow-headers"].split(", ")}
    assert {"authorization", "content-type", "last-event-id"} <= allowed
    assert int(headers["access-control-max-age"]) > 0


async def test_an_allowed_origin_reads_the_stream_and_its_refusals(
    server: RunningServer,
) -> None:
    user = uuid.uuid4()
    async with client(server, Origin=ALLOWED) as c:
        async with c.stream("GET", STREAM, headers=bearer(server, user)) as opened:
            assert opened.status_code == 200
            assert opened.headers["content-type"].startswith("text/event-stream")
            assert_credentialed(opened)
            texts = opened.aiter_text()
            first = await anext(texts)
            assert "event: connected" in first
            # MAX_STREAMS_PER_USER is 1 here: the same user's next stream displaces this one.
            async with c.stream("GET", STREAM, headers=bearer(server, user)) as newer:
                assert newer.status_code == 200
                assert_credentialed(newer)
                rest = "".join([text async for text in texts])
            assert "event: displaced" in rest
        unauthorized = await c.get(STREAM)
        expired = await c.get(STREAM, headers={"Authorization": "Bearer not-a-token"})
        bad_cursor = await c.get(STREAM + "?last_event_id=x", headers=bearer(server))
    assert unauthorized.status_code == expired.status_code == 401
    assert bad_cursor.status_code == 422
    for refused in (unauthorized, expired, bad_cursor):
        assert refused.headers["content-type"] == "application/json"
        assert_credentialed(refused)
    assert unauthorized.headers["www-authenticate"].startswith("Bearer")


async def test_an_allowed_origin_reads_the_unavailable_answer(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_route, "SUBSCRIBE_TIMEOUT", 0.2)

    def never_ready(user_id: uuid.UUID) -> asyncio.Future[int]:
        return asyncio.get_running_loop().create_future()

    monkeypatch.setattr(server.hub.source, "ready", never_ready)
    async with client(server, Origin=ALLOWED) as c:
        response = await c.get(STREAM, headers=bearer(server))
    assert response.status_code == 200
    assert "event: unavailable" in response.text
    assert_credentialed(response)


# --- any other origin -------------------------------------------------------------------------


async def test_a_foreign_origin_gets_no_cors_headers(server: RunningServer) -> None:
    async with client(server, Origin=FOREIGN) as c:
        rest = await c.get(UNREAD, headers=bearer(server))
        unauthorized = await c.get(UNREAD)
        page = await c.get("/")
        async with c.stream("GET", STREAM, headers=bearer(server)) as opened:
            assert opened.status_code == 200  # served (a browser just cannot read it)
            stream_headers = cors(opened)
        preflights = [
            await c.options(READ_ALL, headers=preflight("POST", "authorization, content-type")),
            await c.options(STREAM, headers=preflight("GET", "last-event-id")),
            await c.options("/api/v1/session", headers=preflight("POST", "authorization")),
        ]
    assert rest.status_code == 200
    assert unauthorized.status_code == 401
    for response in (rest, unauthorized, page, *preflights):
        assert cors(response) == {}, response.request.url
    assert stream_headers == {}
    assert all(response.status_code >= 400 for response in preflights)
    # The answer depends on Origin, so caches are told so even when it has no CORS headers.
    assert "origin" in rest.headers["vary"].lower()


async def test_a_request_without_origin_gets_no_cors_headers(server: RunningServer) -> None:
    async with client(server) as c:
        response = await c.get(UNREAD, headers=bearer(server))
    assert response.status_code == 200
    assert cors(response) == {}


async def test_origins_that_only_resemble_an_allowed_one_get_nothing(
    server: RunningServer,
) -> None:
    lookalikes = [
        "https://app.example.evil.example",
        "http://app.example",
        "https://app.example:8443",
        "https://APP.example",
        "null",
    ]
    async with client(server) as c:
        for origin in lookalikes:
            response = await c.get(UNREAD, headers={"Origin": origin, **bearer(server)})
            assert cors(response) == {}, origin


async def test_a_cross_site_form_post_with_the_cookie_changes_nothing(
    server: RunningServer,
) -> None:
    cookies = {"access_token": server.token(uuid.uuid4())}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=server.base_url, cookies=cookies) as c:
        forged = await c.post(
            READ_ALL, headers={"Origin": FOREIGN, "Sec-Fetch-Site": "cross-site", **form}
        )
        sibling = await c.post(
            READ_ALL, headers={"Origin": FOREIGN, "Sec-Fetch-Site": "same-site", **form}
        )
        allowed = await c.post(
            READ_ALL, headers={"Origin": ALLOWED, "Sec-Fetch-Site": "cross-site"}
        )
        own_page = await c.post(
            READ_ALL, headers={"Origin": server.base_url, "Sec-Fetch-Site": "same-origin"}
        )
        read = await c.get(UNREAD, headers={"Origin": FOREIGN, "Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == sibling.status_code == 403
    assert "not in CORS_ORIGINS" in forged.json()["detail"]
    assert cors(forged) == {}
    assert allowed.status_code == own_page.status_code == 200
    assert_credentialed(allowed)
    assert read.status_code == 200  # reads are safe: the browser keeps the answer from the page


async def test_without_cors_origins_no_origin_gets_cors_headers(database_url: str) -> None:
    async with (
        running_server(settings_for(database_url)) as server,
        client(server, Origin=ALLOWED) as c,
    ):
        rest = await c.get(UNREAD, headers=bearer(server))
        pre = await c.options(READ_ALL, headers=preflight("POST", "content-type"))
    assert rest.status_code == 200
    assert cors(rest) == {}
    assert cors(pre) == {}
    assert "vary" not in rest.headers
