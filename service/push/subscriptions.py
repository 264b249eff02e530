"""What a browser may subscribe: its PushSubscription JSON, checked before anything is stored.

Guarantees (each refusal is a ValueError naming the field, turned into a 422 by the route):
- An endpoint is compared and stored in one form (`canonical_endpoint`): printable ASCII only
  (a NUL, a control character or a lone surrogate is refused, never passed to Postgres), the
  scheme and host lower-cased (they are case-insensitive; the path is not touched). Subscribe,
  unsubscribe and the "is it mine" check all use that form, so `HTTPS://Push.Example/x` and
  `https://push.example/x` are one subscription.
- `endpoint` is an absolute https URL of at most `MAX_ENDPOINT` characters, without user info or
  fragment, on the default port, whose host is a DNS name with a dot (not `localhost`, not
  `*.local`/`.internal`/`.localhost`/`.home.arpa`): the dispatcher will POST to it, so it must
  not name this machine or a private network (SSRF). Names are checked again when they are
  resolved (`sender.PublicResolver`, `addresses.allowed`), against DNS rebinding.
- Never an IP literal: no push service uses one, and IPv6 transition forms (`::ffff:…`,
  `64:ff9b::…`, `2002:…`) hide private IPv4 addresses behind "global" ones.
- Only with `allow_loopback` (PUSH_ALLOW_LOOPBACK, for tests) may it be http(s) on `localhost`
  or an IPv4 loopback literal (127.0.0.0/8), with any port.
- `p256dh` is a valid uncompressed P-256 point and `auth` 16 bytes, both base64url; they are
  stored unpadded, as browsers write them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from . import keys

MAX_ENDPOINT = 2048
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan", ".localdomain")


class Refused(ValueError):
    """A subscription field that cannot be stored."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address when `host` (no brackets) is an IP literal."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a hostname or IP literal, no brackets) names this machine."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = ip_literal(host)
    return address is not None and address.is_loopback


def canonical_endpoint(endpoint: str) -> str:
    """The one form an endpoint is stored and looked up in; else Refused."""
    if len(endpoint) > MAX_ENDPOINT:
        raise Refused("endpoint", f"longer than {MAX_ENDPOINT} characters")
    if any(c.isspace() or not c.isprintable() or ord(c) > 126 for c in endpoint):
        raise Refused("endpoint", "has spaces, control or non-ASCII characters")
    try:
        parts = urlsplit(endpoint)
    except ValueError as error:
        raise Refused("endpoint", f"not a URL ({error})") from None
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))


def check_endpoint(endpoint: str, *, allow_loopback: bool) -> str:
    """`endpoint` in its canonical form when a push may be POSTed to it; else Refused."""
    endpoint = canonical_endpoint(endpoint)
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as error:
        raise Refused("endpoint", f"not a URL ({error})") from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise Refused("endpoint", "must be an https:// URL")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise Refused("endpoint", "must not carry user info or a fragment")
    address = ip_literal(host)
    if is_loopback_host(host):
        if allow_loopback and (address is None or address.version == 4):
            return endpoint
        raise Refused("endpoint", "must not name this machine (loopback)")
    if address is not None:
        raise Refused("endpoint", "must name a push service by its host name, not an IP address")
    if parts.scheme != "https":
        raise Refused("endpoint", "must be an https:// URL")
    if port not in (None, 443):
        raise Refused("endpoint", "must use the default https port")
    if "." not in host or host.endswith(PRIVATE_SUFFIXES):
        raise Refused("endpoint", "must name a public push service host")
    return endpoint


def check(endpoint: str, p256dh: str, auth: str, *, allow_loopback: bool) -> Subscription:
    """The subscription to store, or Refused for the first field that cannot be."""
    endpoint = check_endpoint(endpoint, allow_loopback=allow_loopback)
    try:
        point = keys.parse_public_key(p256dh)
    except ValueError as error:
        raise Refused("keys.p256dh", f"{error}") from None
    try:
        secret = keys.b64url_decode(auth)
    except ValueError:
        raise Refused("keys.auth", "not base64url") from None
    if len(secret) != keys.AUTH_BYTES:
        raise Refused("keys.auth", f"must be {keys.AUTH_BYTES} bytes")
    return Subscription(
        endpoint, keys.b64url_encode(keys.public_point(point)), keys.b64url_encode(secret)
    )
