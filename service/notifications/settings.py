"""Settings of what is recorded of notifications: delivery records, analytics, their links, and
the snooze waker."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ..runtime.settings import CoreSettings


class NotificationSettings(CoreSettings):
    """Delivery records, admin analytics, where a notification leads, and snoozes ending."""

    video_link_template: str | None = Field(
        default=None,
        description="A ready video's link, with {content_id}, e.g. "
        "https://app.example.com/video/{content_id}. Unset: the app's player on PUBLIC_URL "
        "(/videos/<content_id>). Never for a failed or waiting request: /requests/<content_id>.",
    )
    delivery_flush_seconds: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="How often a process writes the stream deliveries it recorded (one UPDATE).",
    )
    delivery_max_pending: int = Field(
        default=100_000,
        ge=100,
        description="Stream deliveries kept while the database is away; past it the oldest go.",
    )
    analytics_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="Statement timeout of the admin analytics query; past it the request gets "
        "a 503 (one such query runs at a time per process; another waits a second, then 429).",
    )
    analytics_min_group: int = Field(
        default=5,
        ge=1,
        description="Admin analytics show no numbers for a group (a type, a channel of a type) "
        "of fewer notifications than this (`suppressed: true`), so none isolates a student.",
    )

    snooze_poll_seconds: float = Field(
        default=1,
        gt=0,
        le=60,
        description="How often a `serve` process looks for snoozed notifications whose time has"
        " come (it also wakes at the next one it knows of): they come back about this late at"
        " most.",
    )
    snooze_batch_size: int = Field(
        default=500,
        ge=1,
        description="Snoozed notifications brought back per transaction.",
    )

    @field_validator("video_link_template")
    @classmethod
    def _template_names_the_content(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                link = value.format(content_id="00000000-0000-0000-0000-000000000000")
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(
                    f"VIDEO_LINK_TEMPLATE may name only {{content_id}}: {value!r}"
                ) from error
            if urlsplit(link).scheme not in ("http", "https") or "{content_id}" not in value:
                raise ValueError(
                    f"VIDEO_LINK_TEMPLATE must be an http(s) URL with {{content_id}}: {value!r}"
                )
        return value
