"""Settings of the email digest channel: the SMTP relay, the sender, periods and retries."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from ...http.settings import HttpSettings, check_secret
from .addresses import check_sender, domain_of, is_loopback, plain_address
from .dkim_signing import Signer

# The periods a student can choose for the email digest, and their default lengths in seconds.
DIGEST_PERIODS = {"hourly": 3600.0, "daily": 86400.0, "weekly": 604800.0}
SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LIST_ID = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class EmailSettings(HttpSettings):
    """The email digest: on when SMTP_HOST is set. Its links are signed with a key derived from
    the HTTP edge's JWT_SECRET unless DIGEST_SECRET is set."""

    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that sends email digests. Unset: no digest is made or sent "
        "(the log says so at start).",
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="SMTP port. Unset: 587 for starttls, 465 for tls, 25 for none.",
    )
    smtp_tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (upgrade a plain connection; refused if the server cannot), tls "
        "(TLS from the first byte) or none (loopback and tests only).",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CAs that may sign the SMTP server's certificate. Unset: "
        "the system's.",
    )
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user, when set.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP AUTH password.")
    smtp_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=600,
        description="Limit of one message's SMTP exchange (connecting included when it opens "
        "the connection). The sender's lease is this plus a margin.",
    )
    email_from: str | None = Field(
        default=None,
        description="From of the digests, `addr@example.com` or `Name <addr@example.com>`; "
        "needed with SMTP_HOST.",
    )
    email_envelope_from: str | None = Field(
        default=None,
        description="SMTP MAIL FROM (where bounces go), a plain address; unset: the address of "
        "EMAIL_FROM.",
    )
    email_reply_to: str | None = Field(
        default=None,
        description="Reply-To of the emails (`addr` or `Name <addr>`); unset: none (replies go "
        "to EMAIL_FROM).",
    )
    email_unsubscribe_to: str | None = Field(
        default=None,
        description="Address of the `mailto:` fallback in List-Unsubscribe (someone must act on "
        "what arrives there); unset: the address of EMAIL_REPLY_TO, else of EMAIL_FROM.",
    )
    email_list_id: str | None = Field(
        default=None,
        description="List-Id of the digests, `label.domain` (RFC 2919); unset: digest.DOMAIN "
        "with the domain of EMAIL_FROM.",
    )
    email_feedback_id: str = Field(
        default="digest:vividly-notify",
        pattern=r"^[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+){0,3}$",
        description="Feedback-ID of the digests (Gmail's feedback loop), up to four "
        "colon-separated fields.",
    )
    dkim_selector: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$",
        description="DKIM selector (the key's TXT record is SELECTOR._domainkey.DKIM_DOMAIN). "
        "Set with DKIM_DOMAIN and a private key to sign every email; unset: no signature.",
    )
    dkim_domain: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        description="DKIM signing domain (d=): EMAIL_FROM's domain or a parent of it, for DMARC.",
    )
    dkim_private_key: SecretStr | None = Field(
        default=None, description="The DKIM RSA private key, PEM (or DKIM_PRIVATE_KEY_FILE)."
    )
    dkim_private_key_file: Path | None = Field(
        default=None, description="A file holding the DKIM RSA private key, PEM."
    )
    digest_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs unsubscribe links (32+ bytes). Unset: derived from "
        "JWT_SECRET (so rotating that one ends the links already mailed).",
    )
    digest_period_seconds: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: dict(DIGEST_PERIODS),
        description="Length of each period a student can choose, as JSON, e.g. "
        '{"hourly": 3600, "daily": 86400, "weekly": 604800} (the default).',
    )
    digest_min_age_seconds: float = Field(
        default=900,
        ge=0,
        description="A notification goes into a digest only once it is this old (time for the "
        "student to see it in the app).",
    )
    digest_poll_seconds: float = Field(
        default=30,
        gt=0,
        description="The sender looks for due digests at least this often (and sleeps no longer "
        "than until the next one it knows of).",
    )
    digest_retry_base_seconds: float = Field(
        default=60, gt=0, description="First retry delay of a failed send; doubles each time."
    )
    digest_retry_max_seconds: float = Field(
        default=3600, gt=0, description="Longest delay between two attempts of one digest."
    )
    digest_give_up_seconds: float = Field(
        default=3 * 86400,
        gt=0,
        description="A digest still not accepted this long after it was made is given up "
        "(`failed`); its notifications go into the student's next digest.",
    )
    digest_bounce_limit: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Hard bounces (the address refused with a 5xx) in a row that suspend an "
        "address: no more digests to it until the student saves or confirms it again.",
    )
    digest_max_items: int = Field(
        default=50, ge=1, le=1000, description="Notifications listed in one email at most."
    )
    digest_unsubscribe_days: float = Field(
        default=365, gt=0, description="How long an emailed unsubscribe link stays valid."
    )

    @field_validator("digest_secret")
    @classmethod
    def _digest_secret_is_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                check_secret(value.get_secret_value())
            except ValueError as error:
                raise ValueError(str(error).replace("JWT_SECRET", "DIGEST_SECRET")) from error
        return value

    @field_validator("digest_period_seconds", mode="before")
    @classmethod
    def _periods_from_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ValueError(f"DIGEST_PERIOD_SECONDS must be JSON, not {value!r}") from error
        return value

    @field_validator("digest_period_seconds")
    @classmethod
    def _periods_are_the_periods(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(DIGEST_PERIODS) or any(seconds <= 0 for seconds in value.values()):
            raise ValueError(
                f"DIGEST_PERIOD_SECONDS must give each of {sorted(DIGEST_PERIODS)} a positive "
                f"number of seconds, not {value!r}"
            )
        return value

    @field_validator("smtp_tls", mode="before")
    @classmethod
    def _tls_word(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator(
        "smtp_host",
        "email_from",
        "smtp_username",
        "email_envelope_from",
        "email_reply_to",
        "email_unsubscribe_to",
        "email_list_id",
        "dkim_selector",
        "dkim_domain",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `SMTP_HOST=` in an env file means "off", not "a host named ''".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _digest_can_send(self) -> Self:
        if self.smtp_host is None:
            return self
        if self.email_from is None:
            raise ValueError("SMTP_HOST is set: set EMAIL_FROM too (the digests' sender)")
        check_sender(self.email_from)
        for name in ("email_envelope_from", "email_unsubscribe_to"):
            if (value := getattr(self, name)) is not None and plain_address(value) != value:
                raise ValueError(f"{name.upper()} must be a plain address@domain, not {value!r}")
        if self.email_reply_to is not None:
            check_sender(self.email_reply_to, "EMAIL_REPLY_TO")
        if self.email_list_id is not None and not LIST_ID.fullmatch(self.email_list_id):
            raise ValueError(
                f"EMAIL_LIST_ID must be label.domain (e.g. digest.example.com), not "
                f"{self.email_list_id!r}"
            )
        if self.digest_secret is None and self.jwt_secret is None and self.jwt_algorithm == "RS256":
            raise ValueError(
                "SMTP_HOST is set with RS256 tokens: set DIGEST_SECRET (the key of the digests' "
                "unsubscribe links; with HS256 it is derived from JWT_SECRET)"
            )
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("set both SMTP_USERNAME and SMTP_PASSWORD, or neither")
        if self.digest_retry_max_seconds < self.digest_retry_base_seconds:
            raise ValueError("DIGEST_RETRY_MAX_SECONDS must not be below DIGEST_RETRY_BASE_SECONDS")
        if self.smtp_tls == "none" and not is_loopback(self.smtp_host):
            raise ValueError(
                "SMTP_TLS=none sends passwords and addresses in plain text: it is allowed only "
                "with an SMTP_HOST on this machine (localhost, 127.0.0.1, ::1), not "
                f"{self.smtp_host!r}; use starttls or tls"
            )
        if self.public_url is None:
            raise ValueError(
                "SMTP_HOST is set: set PUBLIC_URL too (the links in digests must reach this "
                f"service from a mailbox, not {self.base_url})"
            )
        self.require_https("the email digest (SMTP_HOST)")
        return self

    @model_validator(mode="after")
    def _dkim_complete(self) -> Self:
        key = self.dkim_private_key is not None or self.dkim_private_key_file is not None
        if self.dkim_private_key is not None and self.dkim_private_key_file is not None:
            raise ValueError("set DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE, not both")
        if key != (self.dkim_selector is not None) or key != (self.dkim_domain is not None):
            raise ValueError(
                "DKIM signing needs DKIM_SELECTOR, DKIM_DOMAIN and a private key "
                "(DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE) together, or none of them"
            )
        signer = self.dkim_signer()
        if signer is not None:
            signer.check()
        return self

    def dkim_signer(self) -> Signer | None:
        """The DKIM signer of these settings; None when signing is off."""
        if self.dkim_selector is None or self.dkim_domain is None:
            return None
        if self.dkim_private_key is not None:
            key = self.dkim_private_key.get_secret_value().encode()
        elif self.dkim_private_key_file is not None:
            try:
                key = self.dkim_private_key_file.read_bytes()
            except OSError as error:
                raise ValueError(
                    f"DKIM_PRIVATE_KEY_FILE: cannot read {self.dkim_private_key_file}: "
                    f"{error.strerror}"
                ) from error
        else:
            return None
        return Signer(self.dkim_selector, self.dkim_domain, key)

    @property
    def smtp_port_or_default(self) -> int:
        """SMTP_PORT, else the usual port of SMTP_TLS."""
        return self.smtp_port if self.smtp_port is not None else SMTP_PORTS[self.smtp_tls]

    @property
    def envelope_from(self) -> str:
        """The SMTP MAIL FROM: EMAIL_ENVELOPE_FROM, else the address of EMAIL_FROM."""
        return self.email_envelope_from or plain_address(self.email_from or "")

    @property
    def unsubscribe_mailbox(self) -> str:
        """The address of the `mailto:` unsubscribe fallback."""
        return self.email_unsubscribe_to or plain_address(
            self.email_reply_to or self.email_from or ""
        )

    @property
    def list_id(self) -> str:
        """The List-Id's `label.domain`."""
        return self.email_list_id or f"digest.{domain_of(self.email_from or '')}"
