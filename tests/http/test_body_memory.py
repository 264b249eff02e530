"""A 100 MB body or a 20 MB header costs the server (a real `serve` process) almost no memory.

The peak resident size (`VmHWM`) is read from /proc before and after: whatever the server
buffered, even briefly, shows in it.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import serve_process

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

MiB = 1024 * 1024
BODY = 100 * 1000 * 1000
ALLOWED_GROWTH = 8 * MiB


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[tuple[str, int]]:
    with serve_process(database_url, dev_login=True) as (base, process):
        yield base, process.pid


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def send(base: str, head: bytes, body_bytes: int = 0, *, chunked: bool = False) -> bytes:
    """Send a request head, then `body_bytes` of body (as sent: a refusal may cut it short)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        piece = b"x" * MiB
        with contextlib.suppress(ConnectionError):
            sock.sendall(head)
            sent = 0
            while sent < body_bytes:
                if chunked:
                    sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                else:
                    sock.sendall(piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            return sock.recv(65536)
    return b""


def test_a_100_mb_body_and_a_20_mb_header_are_refused_without_growing(
    api: tuple[str, int],
) -> None:
    base, pid = api
    for _ in range(20):  # warm up the paths used below
        httpx.post(base + "/api/v1/dev/login", json={"user_id": "x"})
        httpx.post(base + "/api/v1/content-requests", json={"question": "warm"})
    before = peak_rss(pid)

    declared = send(
        base,
        b"POST /api/v1/dev/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % BODY,
        BODY,
    )
    chunked = send(
        base,
        b"POST /api/v1/content-requests HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        BODY,
        chunked=True,
    )
    header = send(
        base,
        b"GET /api/v1/notifications/history HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
        + b"a" * (20 * MiB)
        + b"\r\n\r\n",
    )
    grown = peak_rss(pid) - before

    assert declared.startswith(b"HTTP/1.1 413"), declared[:100]
    # Without a token, but the body is refused first: nothing of it was parsed.
    assert chunked.startswith(b"HTTP/1.1 413"), chunked[:100]
    assert header.startswith(b"HTTP/1.1 431"), header[:100]
    assert grown < ALLOWED_GROWTH, f"peak RSS grew {grown / MiB:.1f} MiB"
    assert httpx.get(base + "/healthz").status_code == 200
