"""Issue 11's table, one test (at least) per row, against one server with small limits.

Rows covered elsewhere: 2's fairness and concurrency in tests/requests/test_fairness.py and its
media cleanup in tests/ops/test_retention.py; 6 in tests/http/test_exposure.py (real
processes); 9 in tests/requests/test_runner.py
(`test_a_crashing_pipeline_ends_in_failed_not_stuck`,
`test_failure_reaches_the_student_in_plain_words`); the 100 MB memory check in
tests/http/test_body_memory.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
import httpx
import pytest
from starlette.types import Message

from service.http.stream import EventStream
from service.live.feed import Feed
from service.requests.media import thumbnail_svg
from service.requests.routes import Refused, admit_retry
from service.settings import Settings
from tests.support.server import (
    SECRET,
    RunningServer,
    complete,
    open_stream,
    running_server,
    settings_for,
)

REQUESTS = "/api/v1/content-requests"
DISMISS_ALL = "/api/v1/notifications/dismiss-all"
HISTORY = "/api/v1/notifications/history"
STREAM = "/api/v1/notifications/stream"
METRICS_TOKEN = "metrics-token-for-the-test-0123456789"
OPEN_CAP = 3
MAX_STREAMS = 4
HEAD_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(
        database_url,
        max_open_requests_per_student=OPEN_CAP,
        max_streams=MAX_STREAMS,
        metrics_token=METRICS_TOKEN,
        head_timeout_seconds=HEAD_TIMEOUT,
    )


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        yield http


def bearer(server: RunningServer, user: uuid.UUID | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(user or uuid.uuid4())}"}


async def raw_request(server: RunningServer, head: bytes, body: bytes = b"") -> bytes:
    """Send bytes on a fresh connection; return what the server answers before closing."""
    host, port = server.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + body)
        await writer.drain()
        async with asyncio.timeout(5):
            return await reader.read(65536)
    finally:
        writer.close()


# -- 1: request body and header size; 422 echoes ---------------------------------------------


async def test_1_bodies_over_the_limit_are_413_before_being_read(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    # A declared 100 MB body: answered at once, with not one body byte sent.
    answer = await raw_request(
        server,
        b"POST /api/v1/dev/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000000\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to go by
        for _ in range(40):
            yield b" " * 8192

    chunked = await client.post(REQUESTS, content=chunks(), headers=bearer(server))
    assert chunked.status_code == 413
    assert chunked.json()["detail"]


async def test_1_oversized_request_heads_are_refused(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    huge = "Bearer " + "a" * (server.settings.max_header_bytes + 1)
    response = await client.get(HISTORY, headers={"Authorization": huge})
    assert response.status_code == 431
    assert "headers larger than" in response.json()["detail"]
    many = {f"x-filler-{i}": "b" * 200 for i in range(100)}
    assert (await client.get(HISTORY, headers=many)).status_code == 431
    # The server is fine afterwards, and a normal head passes.
    assert (await client.get(HISTORY, headers=bearer(server))).status_code == 200


async def test_1_a_422_echoes_only_a_short_prefix_of_the_input(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    big = "x" * 50_000
    response = await client.post("/api/v1/dev/login", json={"user_id": big})
    assert response.status_code == 422
    assert len(response.content) < 1000
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "user_id"]
    assert big.startswith(problem["input"].rstrip("…"))
    whole = await client.post(
        REQUESTS, json={"question": "q", "extra": big}, headers=bearer(server)
    )
    assert whole.status_code == 422
    assert len(whole.content) < 2000


# -- 2: one student cannot fill the queue ----------------------------------------------------


async def test_2_a_student_past_the_open_request_cap_gets_429(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    student, other = uuid.uuid4(), uuid.uuid4()
    asked = await asyncio.gather(
        *(
            client.post(
                REQUESTS, json={"question": f"Question {i}"}, headers=bearer(server, student)
            )
            for i in range(OPEN_CAP + 4)
        )
    )
    statuses = sorted(response.status_code for response in asked)
    assert statuses == [201] * OPEN_CAP + [429] * 4  # concurrent asks never pass the cap
    refused = next(response for response in asked if response.status_code == 429)
    assert int(refused.headers["retry-after"]) > 0
    assert f"at most {OPEN_CAP}" in refused.json()["detail"]
    listed = await client.get(REQUESTS, headers=bearer(server, student))
    assert len(listed.json()["items"]) == OPEN_CAP
    # Another student is not affected.
    theirs = await client.post(REQUESTS, json={"question": "Mine"}, headers=bearer(server, other))
    assert theirs.status_code == 201


# -- 3: CSRF ------------------------------------------------------------------------------------


async def test_3_a_cookie_authenticated_change_needs_this_origin(
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


# -- 4: cursors ---------------------------------------------------------------------------------


async def test_4_oversized_cursors_and_ids_are_4xx_never_500(
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


# -- 5: time claims out of range ----------------------------------------------------------------


def _raw_token(claims: str) -> str:
    """An HS256 token whose claims are this JSON text (numbers Python cannot encode)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(claims.encode())
    mac = hmac.new(SECRET.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + part(mac)


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
async def test_5_time_claims_out_of_range_are_401(
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


# -- 7: a global stream cap ---------------------------------------------------------------------


def metric(text: str, name: str, labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} "):
            return float(line.split()[-1])
    return 0.0


async def test_7_streams_past_max_streams_are_told_to_come_back(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    metrics_auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    refused = 'reason="global_limit"'
    before = metric((await client.get("/metrics", headers=metrics_auth)).text,
                    "vividly_streams_refused_total", refused)  # fmt: skip
    users = [uuid.uuid4() for _ in range(MAX_STREAMS)]
    async with (
        open_stream(server.base_url, server.token(users[0])) as first,
        open_stream(server.base_url, server.token(users[1])) as second,
        open_stream(server.base_url, server.token(users[2])) as third,
        open_stream(server.base_url, server.token(users[3])) as fourth,
    ):
        for stream in (first, second, third, fourth):
            assert (await stream.next()).event == "connected"
        response = await client.get(STREAM, headers=bearer(server))
        text = (await client.get("/metrics", headers=metrics_auth)).text
    assert response.status_code == 200  # EventSource would give up for good on anything else
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: unavailable" in response.text
    assert f"retry: {server.settings.sse_retry_ms}" in response.text
    assert "maximum of 4 streams" in response.text
    assert response.headers["x-content-type-options"] == "nosniff"  # like every other answer
    assert metric(text, "vividly_streams_refused_total", refused) == before + 1
    # Without a token: refused, and counted as auth.
    unauthenticated = await client.get(STREAM)
    assert unauthenticated.status_code == 401
    after = (await client.get("/metrics", headers=metrics_auth)).text
    assert metric(after, "vividly_streams_refused_total", 'reason="auth"') == (
        metric(text, "vividly_streams_refused_total", 'reason="auth"') + 1
    )


# -- 8: what a question may hold ----------------------------------------------------------------


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
async def test_8_control_bidi_and_letterless_questions_are_422(
    server: RunningServer, client: httpx.AsyncClient, question: str
) -> None:
    student = uuid.uuid4()
    response = await client.post(
        REQUESTS, json={"question": question}, headers=bearer(server, student)
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "question"]
    assert (await client.get(REQUESTS, headers=bearer(server, student))).json()["items"] == []


async def test_8_tabs_newlines_and_any_script_are_fine(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a ZWNJ
    joined = ("👩\u200d💻 why?", "ക്\u200dക?", persian)  # ZWJ, ZWNJ: emoji, scripts
    for question in ("Line one\n\tline two", "Почему небо голубое?", "١٢٣", "Why 🌈?", *joined):
        response = await client.post(REQUESTS, json={"question": question}, headers=bearer(server))
        assert response.status_code == 201, (question, response.text)


def test_8_a_thumbnail_is_well_formed_whatever_the_title() -> None:
    svg = thumbnail_svg("\u0001abc \u202e<b>&\ufffe", "#123456")
    root = ET.fromstring(svg)  # raises on a character XML cannot hold
    [caption] = [element for element in root.iter() if element.tag.endswith("text")]
    assert caption.text == "abc <b>&"


# -- 10: security headers and metrics ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/static/js/main.js", "/static/css/app.css"])
async def test_10_the_page_and_static_files_carry_security_headers(
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


async def test_10_metrics_need_the_token_when_one_is_set(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"]
    right = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200
    assert "vividly_streams_open" in right.text


# -- Review of issue 11 ------------------------------------------------------------------------


async def test_r1_a_stream_request_with_a_body_is_refused_and_holds_no_slot(
    server: RunningServer,
) -> None:
    user = uuid.uuid4()
    head = (
        f"GET {STREAM} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token(user)}\r\n"
    ).encode()
    chunked = await raw_request(
        server, head + b"Transfer-Encoding: chunked\r\n\r\n", b"4\r\nabcd\r\n"
    )
    assert chunked.startswith(b"HTTP/1.1 400"), chunked[:200]
    assert b'"the stream takes no request body"' in chunked
    sized = await raw_request(server, head + b"Content-Length: 4\r\n\r\n", b"abcd")
    assert sized.startswith(b"HTTP/1.1 400"), sized[:200]
    assert server.hub.stream_count(user) == 0


async def test_r1_a_stream_whose_receive_fails_is_closed(server: RunningServer) -> None:
    async def receive() -> Message:
        raise RuntimeError("body limit")

    async def send(_message: Message) -> None:
        return None

    user = uuid.uuid4()
    subscription = server.hub.subscription(user, queue_size=8, timeout=1)
    async with subscription:
        stream = EventStream(
            feed=cast(Feed, None),  # no cursor: no replay
            subscription=subscription,
            settings=server.settings,
            cursor=None,
            token_expires_at=datetime.now(UTC) + timedelta(minutes=5),
        )
        async with asyncio.timeout(3):  # before the fix: open until max age
            await stream({"type": "http", "state": {}}, receive, send)
    assert subscription.closed_reason == "disconnected"
    assert server.hub.stream_count(user) == 0


async def test_r2_chunked_trailers_count_against_the_head_limit(server: RunningServer) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {REQUESTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token(uuid.uuid4())}"
        "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    writer.write(head + b"2\r\n{}\r\n0\r\nX-Trailer: ")
    piece = b"a" * 16384
    try:
        for _ in range(2 * 1024 * 1024 // len(piece)):  # 2 MB of trailer, never finished
            writer.write(piece)
            await writer.drain()
    except ConnectionError:
        pass  # closed by the server: what the fix does
    try:
        async with asyncio.timeout(5):  # before the fix: no answer while the trailer goes on
            answer = await reader.read(65536)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"chunk framing and trailers larger than" in answer


async def test_r3_answering_a_clarification_respects_the_open_request_cap(
    server: RunningServer, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    student = bearer(server)
    first = await client.post(REQUESTS, json={"question": "Which grade?"}, headers=student)
    asking = uuid.UUID(first.json()["id"])
    await conn.execute(
        "UPDATE content_requests SET status = 'clarification_needed',"
        " clarification_question = 'Which grade?' WHERE id = $1",
        asking,
    )
    for i in range(OPEN_CAP):  # the cap is full again
        asked = await client.post(REQUESTS, json={"question": f"More {i}"}, headers=student)
        assert asked.status_code == 201
    answer = await client.post(
        f"{REQUESTS}/{asking}/clarification", json={"answer": "grade 7"}, headers=student
    )
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["retry-after"]) > 0
    row = await conn.fetchrow(
        "SELECT status, clarification_answer FROM content_requests WHERE id = $1", asking
    )
    assert (row["status"], row["clarification_answer"]) == ("clarification_needed", None)


async def test_r11_a_retry_whose_request_is_deleted_meanwhile_is_404(
    server: RunningServer, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    asked = await client.post(REQUESTS, json={"question": "Gone?"}, headers=bearer(server, student))
    request_id = uuid.UUID(asked.json()["id"])
    await conn.execute("UPDATE content_requests SET status = 'failed' WHERE id = $1", request_id)
    pool = await asyncpg.create_pool(server.settings.database_url, min_size=1, max_size=1)

    class PruneAfterFirstLook:  # the pool as admit_retry sees it, with a prune in between
        looks = 0

        def acquire(self) -> object:
            return pool.acquire()

        async def fetchrow(self, *args: object) -> asyncpg.Record | None:
            row = await pool.fetchrow(*args)
            if self.looks == 0:
                await conn.execute("DELETE FROM content_requests WHERE id = $1", request_id)
            self.looks += 1
            return row

    try:
        pruned = cast(asyncpg.Pool, PruneAfterFirstLook())
        refused = await admit_retry(pruned, request_id, student, 3)
    finally:
        await pool.close()
    assert refused == Refused(404, "content request not found")


async def test_r4_an_unfinished_request_head_is_closed_after_the_head_timeout(
    server: RunningServer,
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    host, port = server.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    answer = b""
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-a: ")
        async with asyncio.timeout(HEAD_TIMEOUT + 3):  # before the fix: open for good
            while not answer:
                with contextlib.suppress(ConnectionError):
                    writer.write(b"a")  # a drip keeps no head alive
                    await writer.drain()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.2):
                        answer = await reader.read(65536)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"not received within" in answer
    assert loop.time() - started >= HEAD_TIMEOUT - 0.1
    silent = await raw_request(server, b"")  # no byte at all: the same
    assert silent.startswith(b"HTTP/1.1 408"), silent[:200]


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
async def test_r5_the_dev_login_answers_only_a_direct_request_to_localhost(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await client.post(
        "/api/v1/dev/login", json={"user_id": str(uuid.uuid4())}, headers=headers
    )
    assert response.status_code == status, response.text
    if status == 403:
        assert "set-cookie" not in response.headers
        assert response.json()["detail"]


async def test_r5_a_forced_dev_login_mints_an_admin_token_only_for_localhost(
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


def _has_security_headers(headers: httpx.Headers) -> bool:
    return (
        headers.get("x-content-type-options") == "nosniff"
        and headers.get("x-frame-options") == "DENY"
        and "frame-ancestors 'none'" in headers.get("content-security-policy", "")
    )


def _raw_headers(answer: bytes) -> httpx.Headers:
    head = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return httpx.Headers([(name, value) for name, value in (line.split(": ", 1) for line in head)])


async def test_r8_refusals_made_outside_the_app_carry_security_headers_and_json(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    user = uuid.uuid4()
    refused = [
        await client.get(STREAM),  # 401
        await client.get(STREAM, params={"last_event_id": "x"}, headers=bearer(server, user)),
        await client.request("GET", STREAM, headers=bearer(server, user), content=b"x"),
    ]
    assert [response.status_code for response in refused] == [401, 422, 400]
    async with contextlib.AsyncExitStack() as streams:  # at the per-user limit: a 429 next
        for _ in range(server.settings.max_streams_per_user):
            opened = await streams.enter_async_context(
                open_stream(server.base_url, server.token(user))
            )
            assert opened.response.status_code == 200
        refused.append(await client.get(STREAM, headers=bearer(server, user)))
        assert refused[-1].status_code == 429
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


async def test_r_many_tiny_headers_count_as_sent(server: RunningServer) -> None:
    # 3,276 headers `x: ` (no value): 3 KB of names, 16 KB on the wire with their separators
    # (the review's header count overhead); refused once the separators count.
    count = server.settings.max_header_bytes // 5
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"x: \r\n" * count + b"\r\n"
    answer = await raw_request(server, head)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
