"""Request and response models of the JSON API (what the OpenAPI document shows)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

# Ids accepted from clients: JSON numbers beyond 2^53 lose precision in browsers (and in some
# JSON encoders), so the API's ids stay within the integers every client can represent.
CLIENT_ID_MAX = 2**53 - 1
# A well-formed notification type name (the registry's CHECK); whether it is registered is the
# database's to say.
TYPE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
TypeName = Annotated[str, StringConstraints(pattern=TYPE_NAME_PATTERN)]


class ErrorOut(BaseModel):
    """Every error that is not a validation error."""

    detail: str = Field(examples=["notification not found"])


class NotificationPayload(BaseModel):
    """What happened; the fields present depend on the type (a new type may add its own)."""

    model_config = ConfigDict(extra="allow")

    content_id: str | None = Field(
        default=None,
        description="The content request it is about: a UUID for the pipeline's types (a type "
        "added in SQL may carry another id; it is passed on as written).",
    )
    title: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    duration_seconds: int | None = None
    error_message: str | None = None
    question: str | None = None


class NotificationOut(BaseModel):
    """One notification, as in history and on the stream."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "type": "video_complete",
                    "user_id": "3f0c1c9e-8a57-4b8e-9d7e-6d0a7d1f2b11",
                    "payload": {
                        "content_id": "0b7e5a3c-2f1d-4c8e-a9b0-1c2d3e4f5a6b",
                        "title": "How do plants make food?",
                        "video_url": "/media/videos/0b7e5a3c.webm",
                        "thumbnail_url": "/media/thumbnails/0b7e5a3c.png",
                        "duration_seconds": 42,
                    },
                    "link": "/videos/0b7e5a3c-2f1d-4c8e-a9b0-1c2d3e4f5a6b",
                    "timestamp": "2026-11-26T10:00:00+00:00",
                    "read_at": None,
                    "dismissed_at": None,
                    "snoozed_until": None,
                }
            ]
        }
    )

    id: int
    type: str
    user_id: uuid.UUID
    payload: NotificationPayload
    link: str = Field(
        description="Where a click leads: the path of its subject's page in the app on this"
        " service. `/videos/<content_id>` (the ready video, in the app's player),"
        " `/requests/<content_id>` (a failed or waiting request, with its Try again or"
        " question), else `/`.",
        examples=["/requests/0b7e5a3c-2f1d-4c8e-a9b0-1c2d3e4f5a6b"],
        pattern=r"^/",
    )
    timestamp: datetime
    read_at: datetime | None
    dismissed_at: datetime | None
    snoozed_until: datetime | None = Field(
        default=None,
        description="Set while it is snoozed (archived until then): at that time it comes back"
        " as a new notification, with a new id.",
    )


MAX_SNOOZE = timedelta(days=30)
RFC3339 = re.compile(
    r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)", re.ASCII
)


class SnoozeIn(BaseModel):
    """When the notification should come back."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"until": "2026-12-08T08:00:00+01:00"}]}
    )

    until: AwareDatetime = Field(
        description="RFC 3339 with a UTC offset (or Z), in the future and at most 30 days ahead.",
        json_schema_extra={"format": "date-time"},
    )

    @field_validator("until", mode="before")
    @classmethod
    def _rfc3339(cls, value: object) -> object:
        # pydantic would also take a number (or a string of digits) as a Unix time.
        if not isinstance(value, str) or not RFC3339.fullmatch(value):
            raise ValueError("must be an RFC 3339 date-time with an offset, e.g. …T08:00:00+01:00")
        return value

    @field_validator("until")
    @classmethod
    def _ahead(cls, value: datetime) -> datetime:
        now = datetime.now(UTC)
        if value <= now:
            raise ValueError("must lie in the future")
        if value > now + MAX_SNOOZE:
            raise ValueError(f"must lie at most {MAX_SNOOZE.days} days ahead")
        return value


class HistoryOut(BaseModel):
    """A page of history, newest first."""

    items: list[NotificationOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next page; null on the last page."
    )
    unread_count: int = Field(description="Unread, non-archived notifications of the user.")


class UnreadCountOut(BaseModel):
    unread_count: int = Field(examples=[3])
    by_type: dict[str, int] = Field(examples=[{"video_complete": 2, "video_failed": 1}])


class WatermarkIn(BaseModel):
    """Limit a bulk change to ids up to this one (what the user saw when they clicked)."""

    model_config = ConfigDict(extra="forbid")

    up_to_id: int | None = Field(default=None, ge=1, le=CLIENT_ID_MAX, examples=[42])


class BulkOut(BaseModel):
    updated: int = Field(description="How many notifications changed.")
    up_to_id: int | None = Field(description="The watermark applied (null: everything).")
    unread_count: int


class NotificationTypeOut(BaseModel):
    """A registered notification type and what clients show for it."""

    name: str = Field(examples=["video_complete"])
    label: str = Field(description="A short heading.", examples=["Your video is ready"])
    description: str = Field(
        description="One sentence, e.g. beside its preference.",
        examples=["A video you asked for is ready to watch."],
    )


class NotificationTypesOut(BaseModel):
    """Every registered type (the database's registry is the only list of them)."""

    types: list[NotificationTypeOut]


class PreferencesOut(BaseModel):
    in_app: dict[str, bool] = Field(
        description="Every notification type: delivered in the app (default true).",
        examples=[{"video_complete": True, "video_failed": True, "clarification_needed": False}],
    )


class PreferencesIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"in_app": {"clarification_needed": False}}]},
    )

    in_app: dict[TypeName, bool] = Field(
        description="The registered types to change; types not named keep their setting. An"
        " unknown type is a 422 naming it, and nothing changes.",
        # Every key must match the pattern (pydantic enforces it; the schema says so too).
        json_schema_extra={"additionalProperties": False},
    )


# -- delivery analytics ------------------------------------------------------------------------

MAX_SEEN_IDS = 100
NotificationIdIn = Annotated[int, Field(ge=1, le=CLIENT_ID_MAX)]


class SeenIn(BaseModel):
    """Notifications that were on the user's screen (the list open, the page visible)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"ids": [41, 42]}]})

    ids: list[NotificationIdIn] = Field(min_length=1, max_length=MAX_SEEN_IDS)


class SeenOut(BaseModel):
    seen: int = Field(
        description="How many were marked seen now (the caller's, not seen before); others' ids"
        " and repeated reports change nothing."
    )


class OpenedOut(BaseModel):
    id: int
    seen_at: datetime
    opened_at: datetime = Field(description="The first time it was opened (kept on repeats).")
