"""Shared by the hardening tests (tests/app/test_request_limits, test_fair_use,
test_untrusted_input, test_security_headers): limits, raw requests, token and header helpers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid

import httpx

from tests.support.server import (
    SECRET,
    RunningServer,
)

REQUESTS = "/api/v1/content-requests"


DISMISS_ALL = "/api/v1/notifications/dismiss-all"


HISTORY = "/api/v1/notifications/history"


STREAM = "/api/v1/notifications/stream"


METRICS_TOKEN = "metrics-token-for-the-test-0123456789"


OPEN_CAP = 3


MAX_STREAMS = 4


HEAD_TIMEOUT = 1.0


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


def _raw_token(claims: str) -> str:
    """An HS256 token whose claims are this JSON text (numbers Python cannot encode)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(claims.encode())
    mac = hmac.new(SECRET.encode(), signing.encode(), hashlib.sha256).digest()
    return signing + "." + part(mac)


def metric(text: str, name: str, labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} "):
            return float(line.split()[-1])
    return 0.0


def _has_security_headers(headers: httpx.Headers) -> bool:
    return (
        headers.get("x-content-type-options") == "nosniff"
        and headers.get("x-frame-options") == "DENY"
        and "frame-ancestors 'none'" in headers.get("content-security-policy", "")
    )


def _raw_headers(answer: bytes) -> httpx.Headers:
    head = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    return httpx.Headers([(name, value) for name, value in (line.split(": ", 1) for line in head)])
