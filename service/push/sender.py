"""One request to a push service: encrypted, signed, and only to a public address.

Guarantees:
- The body is the message encrypted for the subscription (RFC 8291, `aes128gcm`, by pywebpush's
  `WebPusher.encode`), with `TTL`, `Urgency` and `Topic` headers (the topic is the notification
  id, so a push service replaces a pending copy rather than delivering two), and a VAPID
  `Authorization` (RFC 8292, py-vapid: `aud` the endpoint's origin, `exp` 12 hours ahead).
- Nothing blocks the event loop: the request is aiohttp's; encryption and signing are one ECDH
  and one ECDSA operation each.
- Only public addresses are reached: host names are resolved by `PublicResolver`, which drops
  private, loopback, link-local and reserved addresses (loopback only with PUSH_ALLOW_LOOPBACK),
  and redirects are not followed, so neither DNS nor a push service can point a push at this
  machine or its network. Proxies from the environment are not used.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from py_vapid import Vapid02
from pywebpush import WebPusher

from ..settings import Settings
from . import keys

VAPID_LIFETIME = 12 * 3600  # the longest `exp` push services accept is 24 hours


class NotPublic(OSError):
    """The endpoint resolved to no public address."""


class PublicResolver(AbstractResolver):
    """aiohttp's resolver, keeping only addresses a push may be sent to."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allow_loopback = allow_loopback

    def _allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        return ip.is_global or (self._allow_loopback and ip.is_loopback)

    async def resolve(self, host: str, port: int = 0, family: Any = 0) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [result for result in found if self._allowed(result["host"])]
        if not allowed:
            raise NotPublic(f"{host} resolves to no public address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True, slots=True)
class Answer:
    """What the push service answered."""

    status: int
    retry_after: float | None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the backoff decides


class Sender:
    """Sends pushes with one connection pool; use as an async context manager."""

    def __init__(self, settings: Settings) -> None:
        if settings.vapid_private_key is None:
            raise ValueError("Web Push needs VAPID_PRIVATE_KEY")
        private = keys.parse_private_key(settings.vapid_private_key.get_secret_value())
        self._vapid = Vapid02(private_key=private)
        self._subject = settings.vapid_subject
        self._ttl = settings.push_ttl_seconds
        self._urgency = settings.push_urgency
        self._timeout = aiohttp.ClientTimeout(total=settings.push_timeout_seconds)
        self._allow_loopback = settings.push_allow_loopback
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sender:
        connector = aiohttp.TCPConnector(
            resolver=PublicResolver(allow_loopback=self._allow_loopback), limit=32
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, trust_env=False
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _authorization(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        claims = {
            "sub": self._subject,
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + VAPID_LIFETIME,
        }
        header: str = self._vapid.sign(claims)["Authorization"]
        return header

    async def send(self, endpoint: str, p256dh: str, auth: str, data: bytes, topic: str) -> Answer:
        """POST `data` to the subscription; raises aiohttp/OS errors when nothing was answered."""
        if self._session is None:
            raise RuntimeError("Sender is not open")
        pusher = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
        body: bytes = pusher.encode(data, "aes128gcm")["body"]
        headers = {
            "Authorization": self._authorization(endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self._ttl),
            "Urgency": self._urgency,
            "Topic": topic,
        }
        async with self._session.post(
            endpoint, data=body, headers=headers, allow_redirects=False
        ) as response:
            return Answer(response.status, _retry_after(response.headers.get("Retry-After")))
