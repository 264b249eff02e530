"""Action tokens: what lets a clicked push mark its notification read and opened without a cookie.

A service worker's requests often carry no usable session (the cookie expired hours ago, is
blocked as third-party for a worker imported by another origin, or the integration uses bearer
tokens), so each push carries its own capability: `token(notification, user, expires)`.

Guarantees:
- A token is `<notification>.<user hex>.<expires>.<mac>`, the MAC an HMAC-SHA256 (128 bits kept)
  of the first three parts, keyed by a key derived from VAPID_PRIVATE_KEY (`key_for`): only this
  server can make one, and changing any part makes `verify` refuse it.
- It names one notification of one user and allows only the two actions `ACTIONS`; it expires
  PUSH_TTL_SECONDS after the push was prepared (as long as a push service keeps the push).
- `verify` refuses (`Invalid`) anything malformed, altered, forged or expired, comparing MACs in
  constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

from . import keys
from .settings import PushSettings

ACTIONS = ("read", "opened")
MAC_BYTES = 16
KEY_LABEL = b"vividly push action tokens v1"
SHAPE = re.compile(r"([1-9][0-9]{0,18})\.([0-9a-f]{32})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{22})")


class Invalid(ValueError):
    """A token this server did not make, or that has expired."""


@dataclass(frozen=True, slots=True)
class Granted:
    notification_id: int
    user_id: uuid.UUID


def key_for(settings: PushSettings) -> bytes:
    """The MAC key: derived from the VAPID private key (never the key itself)."""
    if settings.vapid_private_key is None:
        raise ValueError("action tokens need VAPID_PRIVATE_KEY")
    secret = settings.vapid_private_key.get_secret_value().encode()
    return hmac.new(secret, KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, text: str) -> str:
    digest = hmac.new(key, text.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]
    return keys.b64url_encode(digest)


def token(key: bytes, notification_id: int, user_id: uuid.UUID, expires: int) -> str:
    """A token for `notification_id` of `user_id`, valid until `expires` (Unix seconds)."""
    text = f"{notification_id}.{user_id.hex}.{expires}"
    return f"{text}.{_mac(key, text)}"


def verify(key: bytes, value: str, now: float) -> Granted:
    """What `value` grants; Invalid when it is malformed, altered, forged or expired."""
    match = SHAPE.fullmatch(value)
    if match is None:
        raise Invalid("malformed")
    notification, user, expires, mac = match.groups()
    if not hmac.compare_digest(_mac(key, f"{notification}.{user}.{expires}"), mac):
        raise Invalid("not signed by this server")
    if int(expires) < now:
        raise Invalid("expired")
    return Granted(int(notification), uuid.UUID(hex=user))
