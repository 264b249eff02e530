"""Settings of the Web Push channel: VAPID keys and the dispatcher's timing."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from ...notifications.settings import NotificationSettings
from . import keys as push_keys
from .subscriptions import PRIVATE_SUFFIXES as LOCAL_DOMAINS


class PushSettings(NotificationSettings):
    """Web Push: on when both VAPID keys are set."""

    vapid_public_key: str | None = Field(
        default=None,
        description="VAPID application-server public key: base64url of the uncompressed P-256 "
        "point (`vividly-notify vapid-keys` prints a pair). Web Push is off unless both are set "
        "(then VAPID_SUBJECT and PUBLIC_URL are required).",
    )
    vapid_private_key: SecretStr | None = Field(
        default=None,
        description="VAPID private key: base64url of the 32-byte P-256 scalar (or of its DER).",
    )
    vapid_subject: str | None = Field(
        default=None,
        description="Whom push services contact about this sender: mailto:you@example.com or an "
        "https:// URL on a public domain (Apple refuses localhost). Required with Web Push on.",
    )
    push_delay_seconds: float = Field(
        default=60,
        ge=0,
        description="Push a notification that was delivered to an open stream but not seen "
        "(and not read or archived) this long after it was created.",
    )
    push_stream_grace_seconds: float = Field(
        default=3,
        ge=0,
        description="A notification no stream took within this long after its creation is "
        "pushed (the stream's delivery record is written within about a second).",
    )
    push_ttl_seconds: int = Field(
        default=86_400,
        ge=0,
        le=2_419_200,
        description="TTL header: how long a push service keeps a push for an offline device; "
        "notifications older than this are never pushed.",
    )
    push_urgency: Literal["very-low", "low", "normal", "high"] = Field(
        default="normal", description="Urgency header of every push."
    )
    push_poll_seconds: float = Field(
        default=1, gt=0, description="How often the push dispatcher looks for due pushes."
    )
    push_max_attempts: int = Field(
        default=6, ge=1, description="Sends of one push (with backoff) before it is given up."
    )
    push_retry_seconds: float = Field(
        default=10,
        gt=0,
        description="First retry delay of a failed push; it doubles per attempt (up to an hour), "
        "or waits the push service's Retry-After when longer.",
    )
    push_timeout_seconds: float = Field(
        default=10, gt=0, description="Timeout of one request to a push service."
    )
    push_max_subscriptions_per_user: int = Field(
        default=20,
        ge=1,
        description="Devices per user; a newer subscription replaces the least recently renewed.",
    )
    push_allow_loopback: bool = Field(
        default=False,
        description="Tests only: accept http:// push endpoints on `localhost` or an IPv4 "
        "loopback literal (127.0.0.0/8; an [::1] literal is refused like every IP literal "
        "but these), and send to the loopback addresses they resolve to (127.0.0.0/8, ::1). "
        "Never set it on a public deployment.",
    )

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_subject_is_contact(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = re.fullmatch(
            r"mailto:[^@\s]+@([^@\s/?]+)|https://([^\s/:?#]+)(:\d+)?(/\S*)?", value
        )
        domain = found and (found.group(1) or found.group(2) or "").lower().rstrip(".")
        if not domain:
            raise ValueError(
                f"VAPID_SUBJECT must be mailto:you@example.com or an https:// URL, not {value!r}"
            )
        if "." not in domain or domain == "localhost" or domain.endswith(LOCAL_DOMAINS):
            raise ValueError(
                f"VAPID_SUBJECT must name a public domain (push services such as Apple's refuse "
                f"{domain!r}): e.g. mailto:ops@your-school.example, not {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _vapid_keys_pair(self) -> Self:
        if (self.vapid_public_key is None) != (self.vapid_private_key is None):
            raise ValueError(
                "set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (`vividly-notify vapid-keys` "
                "prints a pair), or neither to leave Web Push off"
            )
        if self.vapid_public_key is not None and self.vapid_private_key is not None:
            push_keys.check_pair(self.vapid_public_key, self.vapid_private_key.get_secret_value())
            if self.vapid_subject is None:
                raise ValueError(
                    "Web Push needs VAPID_SUBJECT: a contact for push services, "
                    "mailto:ops@your-school.example or an https:// URL"
                )
            if self.public_url is None:
                raise ValueError(
                    "Web Push is on: set PUBLIC_URL too (the links in pushes must reach this "
                    f"service from a student's device, not {self.base_url})"
                )
            self.require_https("Web Push")
        return self

    @model_validator(mode="after")
    def _push_ttl_outlives_the_delays(self) -> Self:
        # A notification is pushed no earlier than the grace (or the delay) and never past the
        # TTL: a TTL shorter than both would push nothing.
        if self.push_ttl_seconds <= max(self.push_stream_grace_seconds, self.push_delay_seconds):
            raise ValueError(
                f"PUSH_TTL_SECONDS ({self.push_ttl_seconds}) must be longer than "
                f"PUSH_STREAM_GRACE_SECONDS and PUSH_DELAY_SECONDS"
            )
        return self

    @property
    def push_enabled(self) -> bool:
        """Whether Web Push is on (both VAPID keys set)."""
        return self.vapid_public_key is not None and self.vapid_private_key is not None
