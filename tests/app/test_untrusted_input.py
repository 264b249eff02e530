"""Input nobody should trust: cross-site writes, oversized cursors and ids, token times out of
range, questions with control or invisible characters, the development login off loopback."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from tests.support.hardening import (
    DISMISS_ALL,
    HISTORY,
    REQUESTS,
    STREAM,
    _raw_token,
    bearer,
)
from tests.support.server import (
    RunningServer,
    complete,
    running_server,
    settings_for,
)


async def test_a_cookie_authenticated_change_needs_this_origin(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    cookies = {"access_token": server.token(user)}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=server.base_url, cookies=cookies) as c:
        forged = await c.post(DISMISS_ALL, headers={"Origin": "http://evil.example", **form})
        no_origin = await c.post(DISMISS_ALL, headers=form)
        null_origin = await c.post(DISMISS_ALL, headers={"Origin": "null", **form})
        history = (await c.get(HISTORY)).json()
        assert forged.status_code == no_origin.status_code == null_origin.status_code == 403
        assert "session cookie" in forged.json()["detail"]
        assert len(history["items"]) == 1  # nothing was archived
        own = await c.post(DISMISS_ALL, headers={"Origin": server.base_url})
        assert own.status_code == 200
        assert own.json()["updated"] == 1
        fetch_site = await c.post(DISMISS_ALL, headers={"Sec-Fetch-Site": "same-origin"})
        assert fetch_site.status_code == 200
    # Bearer calls are not affected: no browser sends another site's Authorization header.
    async with httpx.AsyncClient(base_url=server.base_url) as c:
        api = await c.post(
            DISMISS_ALL, headers={"Origin": "http://evil.example", **bearer(server, user)}
        )
    assert api.status_code == 200


async def test_oversized_cursors_and_ids_are_4xx_never_500(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    digits = "9" * 4301
    auth = bearer(server)
    answers = [
        await client.get(STREAM, params={"last_event_id": digits}, headers=auth),
        await client.get(STREAM, headers={"Last-Event-ID": digits, **auth}),
        await client.get(HISTORY, params={"before": digits}, headers=auth),
        await client.post(f"/api/v1/notifications/{digits}/read", headers=auth),
        await client.get(REQUESTS, params={"limit": digits}, headers=auth),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text[:200]
        assert len(answer.content) < 1000
    body = await client.post(
        "/api/v1/notifications/read-all",
        content='{"up_to_id": ' + digits + "}",
        headers={"Content-Type": "application/json", **auth},
    )
    assert 400 <= body.status_code < 500
    assert body.json()["detail"]


@pytest.mark.parametrize(
    "claims",
    [
        '{"exp": 10000000000000}',
        '{"exp": 1e400}',
        '{"exp": -1e400}',
        '{"exp": 9999999999, "iat": 1e400}',
        '{"exp": 9999999999, "iat": 10000000000000000000000}',
        '{"exp": 9999999999, "nbf": 1e400}',
        '{"exp": 9999999999, "nbf": -1e400}',
    ],
)
async def test_time_claims_out_of_range_are_401(
    server: RunningServer, client: httpx.AsyncClient, claims: str
) -> None:
    token = _raw_token(claims[:-1] + f', "sub": "{uuid.uuid4()}"}}')
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base_url, cookies={"access_token": token}) as c:
        by_cookie = await c.get(HISTORY)
    for response in (
        await client.get(HISTORY, headers=headers),
        await client.get(STREAM, headers=headers),
        by_cookie,
    ):
        assert response.status_code == 401, (claims, response.text[:200])
        assert response.json()["detail"].startswith("invalid token")


@pytest.mark.parametrize(
    "question",
    [
        "\u0001abc",
        "abc\u007f",
        "abc\u0085",
        "\u202e",
        "abc \u202eevil",
        "abc\u2066x",
        "abc\ufdd0",
        "abc\U0001fffe",
        "abc\uffff",
        "   \t\n ",
        "?!…—",
        # Review of issue 11: invisible text (format characters, tags, Hangul fillers).
        "abc\u200bx",
        "abc\ufeff",
        "abc\u00adx",
        "abc\U000e0041\U000e007f",
        "abc\u206a",
        "abc\ufff9x",
        "\u3164",
        "\u115f\u1160 \uffa0",
    ],
)
async def test_control_bidi_and_letterless_questions_are_422(
    server: RunningServer, client: httpx.AsyncClient, question: str
) -> None:
    student = uuid.uuid4()
    response = await client.post(
        REQUESTS, json={"question": question}, headers=bearer(server, student)
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "question"]
    assert (await client.get(REQUESTS, headers=bearer(server, student))).json()["items"] == []


async def test_tabs_newlines_and_any_script_are_fine(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a ZWNJ
    joined = ("👩\u200d💻 why?", "ക്\u200dക?", persian)  # ZWJ, ZWNJ: emoji, scripts
    for question in ("Line one\n\tline two", "Почему небо голубое?", "١٢٣", "Why 🌈?", *joined):
        response = await client.post(REQUESTS, json={"question": question}, headers=bearer(server))
        assert response.status_code == 201, (question, response.text)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "evil.example"}, 403),
        ({"Host": "evil.example:8000"}, 403),
        ({"Host": "127.0.0.1.evil.example"}, 403),
        ({"Host": "localhost:1:2"}, 403),
        ({"Host": "localhost", "X-Forwarded-For": "203.0.113.9"}, 403),
        ({"Host": "127.0.0.1", "Forwarded": "for=203.0.113.9"}, 403),
        ({"Host": "localhost:8000"}, 200),
        ({"Host": "127.0.0.2"}, 200),
        ({"Host": "[::1]:8000"}, 200),
    ],
)
async def test_the_dev_login_answers_only_a_direct_request_to_localhost(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await client.post(
        "/api/v1/dev/login", json={"user_id": str(uuid.uuid4())}, headers=headers
    )
    assert response.status_code == status, response.text
    if status == 403:
        assert "set-cookie" not in response.headers
        assert response.json()["detail"]


async def test_a_forced_dev_login_mints_an_admin_token_only_for_localhost(
    database_url: str,
) -> None:
    cases = [
        ({"Host": "evil.example"}, False, 200),
        ({"Host": "evil.example"}, True, 403),
        ({"Host": "localhost", "X-Forwarded-For": "203.0.113.9"}, True, 403),
        ({"Host": "localhost:8000"}, True, 200),
    ]
    async with (
        running_server(settings_for(database_url, dev_login="force")) as server,
        httpx.AsyncClient(base_url=server.base_url) as forced,
    ):
        for headers, admin, status in cases:
            body = {"user_id": str(uuid.uuid4()), "admin": admin}
            response = await forced.post("/api/v1/dev/login", json=body, headers=headers)
            assert response.status_code == status, (headers, admin, response.text)
            if status == 403:
                assert "set-cookie" not in response.headers
                assert "admin login" in response.json()["detail"]
