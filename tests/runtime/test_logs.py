"""`vividly-notify serve` writes one JSON object per line, uvicorn's lines included, with request
ids and user ids, never a credential; a slow client's drop is one INFO line, not an ERROR."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.pool import connect
from service.http.auth import mint_token
from service.runtime import logs
from tests.support.ports import free_port
from tests.support.server import SECRET, complete, open_stream, open_unread_stream, settings_for
from tests.support.waiting import until

HUGE_TITLE = "x" * 100_000


@pytest.fixture(scope="module")
def served(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A real `serve` process whose stdout and stderr both go to one file."""
    with serving(database_url, tmp_path_factory.mktemp("logs") / "server.log") as running:
        yield running


@contextlib.contextmanager
def serving(database_url: str, output: Path, **extra: str) -> Iterator[tuple[str, Path]]:
    """`serve` with `extra` environment, ready, its output in `output`."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "DEV_LOGIN": "false",
        "LOG_LEVEL": "info",
        "STREAM_QUEUE_SIZE": "1",
        "SEND_TIMEOUT_SECONDS": "0.5",
        **extra,
    }
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, "server did not start"
            try:
                if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, output
    finally:
        process.terminate()
        process.wait(20)


def lines(output: Path) -> list[dict[str, Any]]:
    parsed = []
    for line in output.read_text().splitlines():
        record = json.loads(line)  # fails the test on any line that is not JSON
        assert isinstance(record, dict), line
        parsed.append(record)
    return parsed


async def test_every_line_is_json_with_request_ids_and_no_credential(
    served: tuple[str, Path], database_url: str
) -> None:
    base, output = served
    settings = settings_for(database_url)
    alice, slow_user = uuid.uuid4(), uuid.uuid4()
    token = mint_token(alice, settings, ttl=timedelta(minutes=5))
    slow_token = mint_token(slow_user, settings, ttl=timedelta(minutes=5))
    forged = mint_token(alice, settings_for(database_url, jwt_secret="forged-" + SECRET[::-1]))
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base) as client:
        traced = await client.get(
            "/api/v1/notifications/history", headers={**bearer, "X-Request-ID": "req-42"}
        )
        assert traced.status_code == 200
        assert (await client.post("/api/v1/session", headers=bearer)).status_code == 200
        cookie = {"Cookie": f"access_token={token}"}
        assert (await client.get("/api/v1/notifications/unread-count", headers=cookie)).is_success
        leaky = await client.get(f"/api/v1/notifications/types?token={token}", headers=bearer)
        assert leaky.status_code == 200
        refused = await client.get(
            "/api/v1/notifications/history", headers={"Authorization": f"Bearer {forged}"}
        )
        assert refused.status_code == 401
    async with open_stream(base, token) as stream:
        await stream.next_data()

    # A client that stops reading while its notifications pile up is dropped.
    slow = await open_unread_stream(base, slow_token)
    writer = await connect(database_url)

    def dropped() -> bool:
        return "stream dropped" in output.read_text()

    try:
        for _ in range(100):  # ~100 KB each: the socket buffers fill after a few MB
            await complete(writer, slow_user, title=HUGE_TITLE)
            if dropped():
                break
        await until(dropped, "the slow stream's drop is logged", timeout=5)
    finally:
        slow.close()
        await writer.close()

    records = lines(output)
    text = output.read_text()
    for secret in (token, slow_token, forged):
        assert secret not in text
    assert {"time", "level", "logger", "message"} <= records[0].keys()
    assert any(r["logger"] == "uvicorn.error" for r in records)  # uvicorn's own lines, as JSON

    access = [r for r in records if r["logger"] == "uvicorn.access"]
    [traced_line] = [r for r in access if r.get("request_id") == "req-42"]
    assert traced_line["user_id"] == str(alice)
    assert (traced_line["method"], traced_line["status"]) == ("GET", 200)
    assert traced_line["path"] == "/api/v1/notifications/history"
    [leaky_line] = [r for r in access if r["path"].startswith("/api/v1/notifications/types")]
    assert leaky_line["path"] == "/api/v1/notifications/types?token=%5Bredacted%5D"
    assert len({r["request_id"] for r in access}) == len(access)  # one id per request

    [drop] = [r for r in records if r["message"].startswith("stream dropped")]
    assert drop["level"] == "INFO"
    assert drop["reason"] in {"overflow", "send_timeout"}
    assert drop["user_id"] == str(slow_user)
    assert not [r for r in records if r["level"] == "ERROR"], [
        r["message"] for r in records if r["level"] == "ERROR"
    ]


async def test_access_log_false_drops_access_lines_and_keeps_the_rest(
    database_url: str, tmp_path: Path
) -> None:
    with serving(database_url, tmp_path / "server.log", ACCESS_LOG="false") as (base, output):
        token = mint_token(uuid.uuid4(), settings_for(database_url), ttl=timedelta(minutes=5))
        async with httpx.AsyncClient(base_url=base) as client:
            history = "/api/v1/notifications/history"
            response = await client.get(history, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
        async with open_stream(base, token) as stream:
            await stream.next_data()
    records = lines(output)
    assert not [r for r in records if r["logger"] == "uvicorn.access"]
    assert [r for r in records if r["level"] == "INFO" and r["logger"] != "uvicorn.access"]


def test_a_push_action_token_in_a_path_is_redacted() -> None:
    line = '"POST /api/v1/push/actions/eJw.abc-DEF_123/read HTTP/1.1" 204'
    assert logs.redact(line) == '"POST /api/v1/push/actions/[redacted]/read HTTP/1.1" 204'


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        ("ACCESS_TOKEN=abc; x", "ACCESS_TOKEN=[redacted]; x"),
        ("acce\u017fs_token=abc", "acce\u017fs_token=[redacted]"),  # the long s matches `(?i)s`
        ("access_to\u212aen=abc", "access_to\u212aen=[redacted]"),  # so does the Kelvin sign `k`
        ("BEARER abc", "BEARER [redacted]"),
        ("see eyJhbGciOi.eyJzdWIi.c2ln now", "see [redacted] now"),
        ("to=ANA%40SCHOOL.EXAMPLE", "to=[email]"),
        ("a plain line with no secret", "a plain line with no secret"),
    ],
)
def test_redaction_skips_no_spelling_its_patterns_match(line: str, redacted: str) -> None:
    assert logs.redact(line) == redacted


def test_email_addresses_never_reach_a_line() -> None:
    # Postfix's refusal quotes the recipient; the digest sender logs the refusal (test_digest).
    refusal = "550 5.1.1 <Ana.Lima+digest@mail.school.example>: Recipient address rejected"
    record = logging.LogRecord(
        "service.digest.sender", logging.WARNING, __file__, 1,
        "digest %d refused for good: %s", (7, f"recipient refused: {refusal}"), None,
    )  # fmt: skip
    line = json.loads(logs.formatter().format(record))
    assert line["message"] == (
        "digest 7 refused for good: recipient refused: 550 5.1.1 <[email]>: "
        "Recipient address rejected"
    )
    encoded = '"GET /api/v1/digest?to=ana%40school.example&x=1 HTTP/1.1" 200'
    assert logs.redact(encoded) == '"GET /api/v1/digest?to=[email]&x=1 HTTP/1.1" 200'
    assert logs.redact("pool of 10 at 2026-12-07 06:00") == "pool of 10 at 2026-12-07 06:00"
