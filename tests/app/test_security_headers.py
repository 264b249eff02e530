"""Security headers on the page, static files and refusals made outside the app, and /metrics
behind its token."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.hardening import (
    HISTORY,
    METRICS_TOKEN,
    REQUESTS,
    STREAM,
    _has_security_headers,
    _raw_headers,
    bearer,
    raw_request,
)
from tests.support.server import (
    RunningServer,
)


@pytest.mark.parametrize("path", ["/", "/static/js/main.js", "/static/css/app.css"])
async def test_the_page_and_static_files_carry_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'"  # no inline script, nothing from elsewhere
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


async def test_metrics_need_the_token_when_one_is_set(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"]
    right = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200
    assert "vividly_streams_open" in right.text


async def test_refusals_made_outside_the_app_carry_security_headers_and_json(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    user = uuid.uuid4()
    refused = [
        await client.get(STREAM),  # 401
        await client.get(STREAM, params={"last_event_id": "x"}, headers=bearer(server, user)),
        await client.request("GET", STREAM, headers=bearer(server, user), content=b"x"),
    ]
    assert [response.status_code for response in refused] == [401, 422, 400]
    for response in refused:
        assert _has_security_headers(response.headers), (response.status_code, response.headers)
        assert response.json()["detail"]

    declared = await raw_request(
        server,
        f"POST {REQUESTS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {server.settings.max_body_bytes + 1}\r\n\r\n".encode(),
    )
    assert declared.startswith(b"HTTP/1.1 413"), declared[:300]
    assert _has_security_headers(_raw_headers(declared)), declared[:600]
    assert b'"detail": "request body larger than' in declared
    huge = await client.get(HISTORY, headers={"X-Big": "b" * server.settings.max_header_bytes})
    assert huge.status_code == 431
    assert _has_security_headers(huge.headers)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (HISTORY, "no-store"),
        ("/api/v1/digest/preferences", "no-store"),
        (f"{REQUESTS}/{uuid.uuid4()}", "no-store"),  # a 404 too
        ("/api/v1/session", "no-store"),
        ("/static/css/app.css", None),  # the page's files may be cached
    ],
)
async def test_api_answers_are_not_kept_by_any_cache(
    server: RunningServer, client: httpx.AsyncClient, path: str, expected: str | None
) -> None:
    response = await client.get(path, headers=bearer(server, uuid.uuid4()))
    assert response.status_code < 500
    assert response.headers.get("cache-control") == expected
