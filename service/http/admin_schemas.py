"""Models of the admin API (`/api/v1/admin`): delivery analytics and copy experiments."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..notifications.experiments.templates import BODY_MAX, HEADING_MAX, PLACEHOLDERS, checked
from .schemas import TypeName


class ReachOut(BaseModel):
    """Aggregates of the notifications created in the window (one group of them). All numbers
    are null when the group is `suppressed`."""

    suppressed: bool = Field(
        description="The group has fewer than ANALYTICS_MIN_GROUP notifications (or would let "
        "such a group be computed from its parent's numbers): no numbers are shown."
    )
    created: int | None
    delivered: int | None = Field(description="First delivered by a stream, a push or an email.")
    delivery_rate: float | None = Field(
        description="delivered / created of the type (or of all types, in `total`). In a "
        "channel's row the denominator is its type's created, so it is the share of the type "
        "this channel delivered first (a type's channel rates add up to its rate; `none` is 0)."
        " Null when there is nothing to divide."
    )
    time_to_deliver_p50_seconds: float | None
    time_to_deliver_p95_seconds: float | None
    seen: int | None = Field(description="Reported on screen by a client.")
    seen_rate: float | None = Field(
        description="seen / created of this row's own group (in a channel's row: of the "
        "notifications that channel delivered first, or of the undelivered for `none`)."
    )
    opened: int | None = Field(
        description="Opened (Watch now, an answer, a push or email click; loading /video/{id}"
        " counts too, so a reload or a shared link may add one: approximate)."
    )
    click_through: float | None = Field(
        description="Of the delivered in this row's group, the share opened."
    )


class ChannelReachOut(ReachOut):
    channel: str = Field(description="The first channel: stream, push, email, or none.")


class TypeReachOut(ReachOut):
    type: str
    label: str = Field(description="The type's label in the registry (its name when it has none).")
    channels: list[ChannelReachOut]


class PointOut(BaseModel):
    """One time bucket of the window: what the notifications created in it did (all numbers
    null when `suppressed`, as for a type)."""

    at: datetime = Field(description="The bucket's start (UTC).")
    suppressed: bool
    created: int | None
    delivered: int | None
    seen: int | None
    opened: int | None


class SeriesOut(BaseModel):
    bucket: Literal["hour", "day"] = Field(
        description="An hour for windows up to 48 hours, else a day (from the window's start)."
    )
    points: list[PointOut] = Field(description="Every bucket of the window, oldest first.")


class AnalyticsOut(BaseModel):
    from_: datetime = Field(alias="from", description="Created at or after (inclusive).")
    to: datetime = Field(description="Created before (exclusive).")
    total: ReachOut
    types: list[TypeReachOut]
    series: SeriesOut = Field(description="The same notifications over time.")


_PLACEHOLDERS = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


class CopyIn(BaseModel):
    """One variant's copy: templates that may name the payload's text."""

    heading: str = Field(
        description=f"1 to {HEADING_MAX} characters, one line; may use {_PLACEHOLDERS}.",
        examples=["{title} is ready to watch"],
    )
    body: str = Field(
        description=f"1 to {BODY_MAX} characters, one line; may use {_PLACEHOLDERS}.",
        examples=["Your video about {title} is waiting for you."],
    )

    @field_validator("heading")
    @classmethod
    def _heading(cls, value: str) -> str:
        return checked(value, HEADING_MAX)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        return checked(value, BODY_MAX)


class ExperimentIn(BaseModel):
    type: TypeName = Field(description="A registered notification type with no running experiment.")
    a: CopyIn
    b: CopyIn


class WinnerIn(BaseModel):
    variant: Literal["a", "b"]


class RateOut(BaseModel):
    value: float
    low: float = Field(description="The 95 % Wilson score interval's lower end.")
    high: float = Field(description="The 95 % Wilson score interval's upper end.")


class VariantOut(BaseModel):
    """A variant's copy and what the notifications made with it did (numbers null when
    `suppressed`: fewer than ANALYTICS_MIN_GROUP notifications in it or in the other)."""

    variant: Literal["a", "b"]
    heading: str
    body: str
    suppressed: bool
    created: int | None = Field(description="Notifications made with this variant.")
    delivered: int | None
    seen: int | None
    opened: int | None
    delivery_rate: RateOut | None = Field(description="delivered / created.")
    seen_rate: RateOut | None = Field(description="seen / created.")
    click_through: RateOut | None = Field(description="Of the delivered, the share opened.")


class ComparisonOut(BaseModel):
    """Click-through of a minus b: Newcombe's 95 % interval and the two-proportion z-test."""

    metric: Literal["click_through"]
    difference: float
    low: float
    high: float
    p_value: float
    leader: Literal["a", "b"] | None = Field(
        description="The variant ahead when the interval excludes 0; null: no winner yet."
    )


class ExperimentOut(BaseModel):
    id: int
    type: str
    label: str = Field(description="The type's label in the registry.")
    started_at: datetime
    stopped_at: datetime | None
    running: bool
    winner: Literal["a", "b"] | None = Field(description="The variant made the type's default.")
    variants: list[VariantOut]
    comparison: ComparisonOut | None = Field(
        description="Null while either variant has nothing delivered or is suppressed."
    )


class ExperimentsOut(BaseModel):
    experiments: list[ExperimentOut] = Field(description="Newest first (at most 100).")
