"""One request to a push service: encrypted, signed, and only to a public address.

Guarantees:
- The body is the message encrypted for the subscription (RFC 8291, `aes128gcm`, by pywebpush's
  `WebPusher.encode`), with `TTL`, `Urgency` and `Topic` headers (the topic is the notification
  id, so a push service replaces a pending copy rather than delivering two), and a VAPID
  `Authorization` (RFC 8292, py-vapid: `aud` the endpoint's origin, `exp` 12 hours ahead).
- Nothing blocks the event loop: the request is aiohttp's; encryption and signing are one ECDH
  and one ECDSA operation each.
- Only public addresses are reached: host names are resolved by `PublicResolver`, which drops
  every address `addresses.allowed` refuses (private, loopback, link-local, reserved, and IPv6
  forms carrying such an IPv4 address; loopback only with PUSH_ALLOW_LOOPBACK); an IP-literal
  endpoint (aiohttp does not resolve those) is checked by the same rule before anything is
  sent; redirects are not followed, so neither DNS nor a push service can point a push at this
  machine or its network. Proxies from the environment are not used. Refused: `NotPublic`.
- The encrypted body is one aes128gcm record of at most `MAX_RECORD` bytes (RFC 8291 §4: push
  services need accept no more); a larger one is `TooLarge`, and nothing is sent.
- Slow push services hold only their own sends: at most `PER_HOST` connections per host, a
  connection must open within `CONNECT_SECONDS`, and a request ends after PUSH_TIMEOUT_SECONDS.
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

from . import addresses, keys
from .settings import PushSettings

VAPID_LIFETIME = 12 * 3600  # the longest `exp` push services accept is 24 hours
MAX_RECORD = 4096  # bytes of the encrypted body, header (86) and tag included
CONNECTIONS = 64
PER_HOST = 16
CONNECT_SECONDS = 3.0


class NotPublic(OSError):
    """The endpoint resolved to no public address."""


class TooLarge(ValueError):
    """The encrypted message is larger than push services accept."""


class PublicResolver(AbstractResolver):
    """aiohttp's resolver, keeping only addresses a push may be sent to."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allow_loopback = allow_loopback

    def _allowed(self, address: str) -> bool:
        return addresses.allowed_text(address, allow_loopback=self._allow_loopback)

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

    def __init__(self, settings: PushSettings) -> None:
        if settings.vapid_private_key is None or settings.vapid_subject is None:
            raise ValueError("Web Push needs VAPID_PRIVATE_KEY and VAPID_SUBJECT")
        private = keys.parse_private_key(settings.vapid_private_key.get_secret_value())
        self._vapid = Vapid02(private_key=private)
        self._subject = settings.vapid_subject
        self._urgency = settings.push_urgency
        self._timeout = aiohttp.ClientTimeout(
            total=settings.push_timeout_seconds,
            sock_connect=min(CONNECT_SECONDS, settings.push_timeout_seconds),
        )
        self._allow_loopback = settings.push_allow_loopback
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sender:
        connector = aiohttp.TCPConnector(
            resolver=PublicResolver(allow_loopback=self._allow_loopback),
            limit=CONNECTIONS,
            limit_per_host=PER_HOST,
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

    def check_address(self, endpoint: str) -> None:
        """NotPublic when `endpoint` is an IP literal the rule refuses (names: at resolution)."""
        host = urlsplit(endpoint).hostname or ""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return
        if not addresses.allowed(literal, allow_loopback=self._allow_loopback):
            raise NotPublic(f"{host} is not a public address")

    async def send(
        self, endpoint: str, p256dh: str, auth: str, data: bytes, topic: str, ttl: int
    ) -> Answer:
        """POST `data` to the subscription, kept `ttl` seconds by the push service; raises
        NotPublic, TooLarge, or aiohttp/OS errors when nothing was answered."""
        if self._session is None:
            raise RuntimeError("Sender is not open")
        self.check_address(endpoint)
        body = encrypt(data, p256dh, auth)
        headers = {
            "Authorization": self._authorization(endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(max(0, ttl)),
            "Urgency": self._urgency,
            "Topic": topic,
        }
        async with self._session.post(
            endpoint, data=body, headers=headers, allow_redirects=False
        ) as response:
            return Answer(response.status, _retry_after(response.headers.get("Retry-After")))


def encrypt(data: bytes, p256dh: str, auth: str) -> bytes:
    """`data` encrypted for the subscription (one aes128gcm record); TooLarge past MAX_RECORD."""
    subscription = {"endpoint": "https://push.invalid/", "keys": {"p256dh": p256dh, "auth": auth}}
    pusher = WebPusher(subscription)
    body: bytes = pusher.encode(data, "aes128gcm")["body"]
    if len(body) > MAX_RECORD:
        raise TooLarge(f"encrypted push of {len(body)} bytes (at most {MAX_RECORD})")
    return body
