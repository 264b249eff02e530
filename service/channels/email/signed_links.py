"""Signed links mailed to a student: one-click unsubscribe, the address confirmation (double
opt-in), and the base of each digest entry's link (open_links.py: it records the click, then
goes to the notification's subject). They work without logging in, and only as issued.

Guarantees:
- An unsubscribe or confirmation link names one student and the address it was mailed to, the
  address as a keyed fingerprint (so the URL, and the logs it may reach, do not hold the
  address). It acts for that student only while that is still their address, exactly as stored
  (no case folding: `x@straße.de` and `x@strasse.de` are different domains, and a link mailed
  to one never confirms the other): a link from an old mailbox cannot turn off, or confirm, the
  new one. Unsubscribe links mailed before fingerprints were exact (two-part tokens) still work
  for an all-ASCII address, where folding joins only letter case.
- It is signed with HMAC-SHA256 (itsdangerous, digest_method=sha256) under DIGEST_SECRET, or,
  unset, under a key derived from JWT_SECRET with a label used for nothing else (a token
  signature never verifies as a link, nor the other way round). Each kind of link has its own
  salt: a link of one kind never verifies as a link of another. An open link names one student
  and one notification of theirs. Unsubscribe and open links expire `DIGEST_UNSUBSCRIBE_DAYS`
  after they were mailed, confirmation links after CONFIRM_DAYS.
- `verify` returns whom a link names only for a link of this kind this key made that has not
  expired; anything else (forged, altered, truncated, expired) raises `InvalidLink` saying which.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlencode

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from .settings import EmailSettings

UNSUBSCRIBE_PATH = "/api/v1/digest/unsubscribe"
CONFIRM_PATH = "/api/v1/digest/confirm"
OPEN_PATH = "/api/v1/digest/open"
CONFIRM_DAYS = 7
DERIVATION_LABEL = b"vividly notifications: email digest unsubscribe links, v1"
MAX_TOKEN = 512  # far above what `token` makes; anything longer is not ours
FINGERPRINT_V2 = 2  # the third part of a token whose fingerprint is of the exact address


class InvalidLink(Exception):
    """An unsubscribe link that was not issued by this key, or has expired (text says which)."""


@dataclass(frozen=True, slots=True)
class Unsubscriber:
    """Whom a valid link names (`legacy`: a token from before exact fingerprints)."""

    user_id: uuid.UUID
    fingerprint: str
    legacy: bool = False


def signing_key(settings: EmailSettings) -> bytes | None:
    """The key of unsubscribe links: DIGEST_SECRET, else derived from JWT_SECRET, else None."""
    if settings.digest_secret is not None:
        return settings.digest_secret.get_secret_value().encode()
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value().encode()
        return hmac.new(secret, DERIVATION_LABEL, hashlib.sha256).digest()
    return None


class _ClockedSigner(TimestampSigner):
    def __init__(self, *args: Any, clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class SignedLinks:
    """Makes and checks one kind of signed link (SALT) under one key."""

    SALT = "vividly.email-digest.unsubscribe.v1"
    PATH = UNSUBSCRIBE_PATH
    NAME = "unsubscribe link"
    # What to do instead when the link does not work: the last sentence of each refusal.
    INSTEAD = "Unsubscribe from a newer digest, or in Vividly's notification preferences."

    # The refusals, each said once here; they are sentences (the landing pages show them).
    def broken(self) -> InvalidLink:
        """Truncated or altered: most likely by a mail program, not by the student."""
        return InvalidLink(
            "This link is incomplete or was changed — mail programs sometimes break long "
            f"links. {self.INSTEAD}"
        )

    def expired(self) -> InvalidLink:
        return InvalidLink(f"This {self.NAME} has expired. {self.INSTEAD}")

    def not_valid(self, why: str = "") -> InvalidLink:
        """Sealed by this key but never issued (or dated in the future: `why`)."""
        return InvalidLink(f"This {self.NAME} is not valid{why}. {self.INSTEAD}")

    def __init__(
        self,
        key: bytes,
        *,
        base_url: str,
        max_age_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key
        self._clock = clock
        self._base_url = base_url
        self._max_age = max_age_seconds
        self._serializer = URLSafeTimedSerializer(
            key,
            salt=self.SALT,
            signer=_ClockedSigner,
            signer_kwargs={"clock": clock, "digest_method": hashlib.sha256},
        )

    @classmethod
    def from_settings(
        cls, settings: EmailSettings, *, clock: Callable[[], float] = time.time
    ) -> Self | None:
        """The links of `settings`' key; None when there is no key (RS256 without either)."""
        key = signing_key(settings)
        if key is None:
            return None
        return cls(
            key, base_url=settings.base_url, max_age_seconds=cls.max_age(settings), clock=clock
        )

    @staticmethod
    def max_age(settings: EmailSettings) -> float:
        return settings.digest_unsubscribe_days * 86400

    def fingerprint(self, address: str) -> str:
        """A short keyed digest of exactly `address`."""
        mac = hmac.new(self._key, b"address:v2:" + address.encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def legacy_fingerprint(self, address: str) -> str:
        """The fingerprint two-part tokens carry (of the case-folded address)."""
        mac = hmac.new(self._key, b"address:" + address.casefold().encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def _url(self, token: str) -> str:
        query = urlencode({"token": token})
        return f"{self._base_url}{self.PATH}?{query}"  # notifications/links.py's base

    def _loads(self, token: str) -> Any:
        """The value `token` signs; InvalidLink when it is not a live link of this kind and key."""
        if not token or len(token) > MAX_TOKEN:
            raise self.broken()
        try:
            return self._serializer.loads(token, max_age=int(self._max_age))
        except SignatureExpired as error:
            raise self.expired() from error
        except BadData as error:
            raise self.broken() from error


class UnsubscribeLinks(SignedLinks):
    """Makes and checks the unsubscribe links of one key."""

    ACCEPTS_LEGACY = True

    def is_for(self, unsubscriber: Unsubscriber, address: str) -> bool:
        """Whether the link was mailed to `address`."""
        if unsubscriber.legacy:
            expected = self.legacy_fingerprint(address)
            return address.isascii() and hmac.compare_digest(unsubscriber.fingerprint, expected)
        return hmac.compare_digest(unsubscriber.fingerprint, self.fingerprint(address))

    def token(self, user_id: uuid.UUID, address: str) -> str:
        """The signed token naming `user_id` at `address`."""
        return self._serializer.dumps([str(user_id), self.fingerprint(address), FINGERPRINT_V2])

    def url(self, user_id: uuid.UUID, address: str) -> str:
        """The absolute URL of this kind of link for `user_id` at `address`."""
        return self._url(self.token(user_id, address))

    def verify(self, token: str) -> Unsubscriber:
        """Whom `token` names; InvalidLink when it is not a live link of this key."""
        value = self._loads(token)
        try:
            if isinstance(value, list) and len(value) == 2 and self.ACCEPTS_LEGACY:
                user, fingerprint = value
                return Unsubscriber(uuid.UUID(user), str(fingerprint), legacy=True)
            user, fingerprint, version = value
            if version != FINGERPRINT_V2:
                raise ValueError(version)
            return Unsubscriber(uuid.UUID(user), str(fingerprint))
        except (TypeError, ValueError) as error:  # signed by us, but not a link: never issued
            raise self.not_valid() from error


class ConfirmLinks(UnsubscribeLinks):
    """Makes and checks the address confirmation links of one key."""

    SALT = "vividly.email-digest.confirm.v1"
    PATH = CONFIRM_PATH
    NAME = "confirmation link"
    INSTEAD = "Ask for a new one in Vividly's notification preferences."
    ACCEPTS_LEGACY = False  # a week-long link: mailed before exact fingerprints, ask anew

    @staticmethod
    def max_age(settings: EmailSettings) -> float:
        return CONFIRM_DAYS * 86400.0
