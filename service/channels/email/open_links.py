"""A digest entry's link (`GET /api/v1/digest/open?token=`): it names one notification of one
student, opaquely.

Guarantees:
- The token is encrypted and authenticated (Fernet: AES-128-CBC and HMAC-SHA256, from the
  `cryptography` package) under a key derived from the links' key (DIGEST_SECRET, else
  JWT_SECRET's derivation in signed_links.py) with a label used for nothing else. The URL, and
  the logs and referrers it may reach, show neither the student nor the notification: only a
  random-looking string that changes with every digest.
- `verify` returns what a token names only for a token this key made within
  DIGEST_UNSUBSCRIBE_DAYS; a forged, altered, truncated or expired one raises `InvalidLink`
  saying which. Links of other kinds never verify here (their salts and format differ).
- Links mailed before tokens were opaque (itsdangerous-signed, readable) still verify until
  they expire, `DIGEST_UNSUBSCRIBE_DAYS` after they were mailed; after that the fallback can go.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from .signed_links import OPEN_PATH, SignedLinks

ENCRYPTION_LABEL = b"vividly notifications: email digest open links, encryption, v2"
_NOTIFICATION_BYTES = 8
MAX_CLOCK_SKEW = 60.0  # seconds a link may be dated ahead of this clock (Fernet's own skew)


@dataclass(frozen=True, slots=True)
class Opening:
    """What a valid open link names: one notification of one student."""

    user_id: uuid.UUID
    notification_id: int


class OpenLinks(SignedLinks):
    """Makes and checks a digest's links to its notifications (they expire with its unsubscribe
    link, DIGEST_UNSUBSCRIBE_DAYS after it was mailed)."""

    SALT = "vividly.email-digest.open.v1"  # of the readable links mailed before v2
    PATH = OPEN_PATH
    NAME = "digest link"
    INSTEAD = "Open the notification in Vividly instead."

    def _fernet(self) -> Fernet:
        key = hmac.new(self._key, ENCRYPTION_LABEL, hashlib.sha256).digest()
        return Fernet(base64.urlsafe_b64encode(key))

    def token(self, user_id: uuid.UUID, notification_id: int) -> str:
        """The opaque token naming `notification_id` of `user_id`."""
        plain = user_id.bytes + notification_id.to_bytes(_NOTIFICATION_BYTES, "big", signed=True)
        sealed = self._fernet().encrypt_at_time(plain, int(self._clock()))
        return sealed.decode("ascii").rstrip("=")  # no %3D in the URL

    def url(self, user_id: uuid.UUID, notification_id: int) -> str:
        """The absolute URL opening `notification_id` of `user_id`."""
        return self._url(self.token(user_id, notification_id))

    def verify(self, token: str) -> Opening:
        """What `token` names; InvalidLink when it is not a live open link of this key."""
        if token.startswith("gAAAAA"):  # Fernet's version byte and the top of its timestamp
            return self._open(token)
        return self._legacy(token)

    def _open(self, token: str) -> Opening:
        fernet = self._fernet()
        try:
            sealed = (token + "=" * (-len(token) % 4)).encode("ascii")
            plain = fernet.decrypt(sealed)
            made = fernet.extract_timestamp(sealed)
        except (InvalidToken, UnicodeEncodeError) as error:
            raise self.broken() from error
        now = self._clock()
        if now - made > self._max_age:
            raise self.expired()
        if made > now + MAX_CLOCK_SKEW:  # sealed by this key on a clock far ahead: never live
            raise self.not_valid(" (it is dated in the future)")
        if len(plain) != 16 + _NOTIFICATION_BYTES:  # sealed by this key, but never issued
            raise self.not_valid()
        notification = int.from_bytes(plain[16:], "big", signed=True)
        return Opening(uuid.UUID(bytes=plain[:16]), notification)

    def _legacy(self, token: str) -> Opening:
        value = self._loads(token)
        try:
            user, notification = value
            if type(notification) is not int:
                raise TypeError(notification)
            return Opening(uuid.UUID(user), notification)
        except (TypeError, ValueError) as error:  # signed by us, but not a link: never issued
            raise self.not_valid() from error

    def legacy_token(self, user_id: uuid.UUID, notification_id: int) -> str:
        """A readable token as links mailed before v2 carried (for the tests of the fallback)."""
        return self._serializer.dumps([str(user_id), notification_id])
