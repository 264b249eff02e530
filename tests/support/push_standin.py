"""A push service stand-in on the loopback, and a browser-like subscription to decrypt with.

The stand-in is a real HTTP server (aiohttp): it records every request and answers each
endpoint with the statuses a test scripted (201 once the script is used up).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from service.channels.push import keys


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    hold: asyncio.Event | None = None  # when set: answers wait for it
    held: dict[str, asyncio.Event] = field(default_factory=dict)  # per path: answers wait

    def for_path(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.for_path(path)) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{path}: {len(self.for_path(path))} of {count} pushes")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), remaining)
        return self.for_path(path)


@asynccontextmanager
async def push_service() -> AsyncIterator[StandIn]:
    standin = StandIn()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        standin.received.append(Received(request.path, dict(request.headers), body))
        standin.arrived.set()
        if standin.hold is not None:
            await standin.hold.wait()
        if request.path in standin.held:
            await standin.held[request.path].wait()
        statuses = standin.script[request.path]
        status = statuses.pop(0) if statuses else 201
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    standin.base_url = f"http://127.0.0.1:{port}"
    try:
        yield standin
    finally:
        await runner.cleanup()


@dataclass
class Browser:
    """What a browser holds for one subscription: its ECDH key and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def path(self) -> str:
        return "/" + self.endpoint.split("/", 3)[3]

    def json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {
                "p256dh": keys.b64url_encode(keys.public_point(self.private_key.public_key())),
                "auth": keys.b64url_encode(self.auth_secret),
            },
        }

    def decrypt(self, body: bytes) -> bytes:
        plain: bytes = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return plain


def verify_vapid(headers: dict[str, str], public_key: str, endpoint_origin: str) -> dict[str, Any]:
    """The claims of the request's VAPID token, verified against `public_key`; else raises."""
    scheme, _, params = headers["Authorization"].partition(" ")
    assert scheme == "vapid"
    parts = dict(part.strip().split("=", 1) for part in params.split(","))
    assert parts["k"] == public_key
    pem_key = keys.parse_public_key(public_key)
    claims: dict[str, Any] = jwt.decode(
        parts["t"], pem_key, algorithms=["ES256"], audience=endpoint_origin
    )
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    return claims
