"""`/api/v1/admin`: delivery analytics for tokens holding `ADMIN_ROLE`. Aggregates only.

Guarantees: no answer names a user or a notification (counts, rates and percentiles per type
and channel); the window is widened to whole hours and a group of fewer than
`ANALYTICS_MIN_GROUP` notifications shows no numbers (`suppressed: true`), so no single answer
isolates one student's notification (two answers can still be differenced: see
service/notifications/analytics.py). A token without the role gets 403, no token
401; a window that is not `from < to`, longer than `MAX_WINDOW`, or outside [1970, 9999) is a
422 and runs no query. The window is taken in UTC whatever offset it was given in (rounded to
UTC hours) and answered in UTC (`Z`).
One query per request (`DELIVERY_ANALYTICS`, on the BRIN index of `created_at`), one at a time
per process (another request waits a second, then 429) and cancelled after
`ANALYTICS_TIMEOUT_SECONDS` (503). The same notifications over time come in hours for a window
up to `HOURLY_UP_TO`, else days, every bucket of the window listed (small ones suppressed as a
type is). The copy experiments are `routes/experiments.py`, under the same prefix and roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError

from ...notifications import sql
from ...notifications.analytics import Busy, TooSlow, hour_window, suppress
from ..admin_schemas import AnalyticsOut
from ..deps import AdminUser, Analytics, AppSettings, Pool
from ..schemas import ErrorOut
from . import experiments

MAX_WINDOW = timedelta(days=90)
DEFAULT_WINDOW = timedelta(days=7)
HOURLY_UP_TO = timedelta(hours=48)
POINT_NUMBERS = ("created", "delivered", "seen", "opened")
# The bounds a window may have: whole hours and the default window never leave the calendar.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    responses={
        401: {"model": ErrorOut, "description": "Missing or invalid token."},
        403: {"model": ErrorOut, "description": "The token lacks the admin role."},
        429: {"model": ErrorOut, "description": "Another analytics query is running; retry."},
        503: {"model": ErrorOut, "description": "The query took too long; try a shorter window."},
    },
)
router.include_router(experiments.router)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _reach(row: Mapping[str, Any], created: int) -> dict[str, Any]:
    """One group's aggregates; `created` is the delivery rate's denominator."""
    p50, p95 = row["deliver_p50"], row["deliver_p95"]
    return {
        "created": row["created"],
        "delivered": row["delivered"],
        "delivery_rate": _ratio(row["delivered"], created),
        "time_to_deliver_p50_seconds": None if p50 is None else round(p50, 3),
        "time_to_deliver_p95_seconds": None if p95 is None else round(p95, 3),
        "seen": row["seen"],
        "seen_rate": _ratio(row["seen"], row["created"]),
        "opened": row["opened"],
        "click_through": _ratio(row["opened_delivered"], row["delivered"]),
    }


def _window_error(field: str, message: str, value: datetime) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", field), "msg": message, "input": str(value)}]
    )


def _utc(value: datetime, field: str) -> datetime:
    """`value` in UTC (no zone: UTC already), within [EARLIEST, LATEST]; else a 422."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        utc = aware.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise _window_error(field, f"{field} is outside the calendar", value) from None
    if not EARLIEST <= utc <= LATEST:
        raise _window_error(
            field, f"{field} must be between {EARLIEST.year} and {LATEST.year}", value
        )
    return utc


@router.get("/analytics", response_model=AnalyticsOut)
async def analytics(
    _admin: AdminUser,
    pool: Pool,
    gate: Analytics,
    settings: AppSettings,
    from_: Annotated[
        datetime | None,
        Query(alias="from", description="Created at or after (ISO 8601; no zone: UTC)."),
    ] = None,
    to: Annotated[
        datetime | None, Query(description="Created before (ISO 8601; default: now).")
    ] = None,
) -> Any:
    """Delivery, time to deliver, seen and click-through of the notifications created in
    [from, to) (default: the last 7 days; at most 90 days), per type and first channel. The
    window is widened to whole hours; groups of fewer than `ANALYTICS_MIN_GROUP` notifications
    are `suppressed` (their numbers null). `series`: the same over time, hour or day buckets."""
    end = _utc(to, "to") if to is not None else datetime.now(UTC)
    start = _utc(from_, "from") if from_ is not None else end - DEFAULT_WINDOW
    if start >= end:
        raise _window_error("from", "from must be before to", start)
    if end - start > MAX_WINDOW:
        raise _window_error("to", f"the window is at most {MAX_WINDOW.days} days", end)
    start, end = hour_window(start, end)
    step = timedelta(hours=1) if end - start <= HOURLY_UP_TO else timedelta(days=1)
    try:
        rows = await gate.fetch(pool, sql.DELIVERY_ANALYTICS, start, end, step)
    except Busy:
        raise HTTPException(
            429, detail="another analytics query is running; retry shortly",
            headers={"Retry-After": "5"},
        ) from None  # fmt: skip
    except TooSlow:
        raise HTTPException(
            503,
            detail=f"the analytics query took longer than {settings.analytics_timeout_seconds:g}"
            " s and was cancelled; try a shorter window",
        ) from None
    total: dict[str, Any] = {}  # the grouping set () gives a row even for an empty window
    types: list[dict[str, Any]] = []
    buckets = {}
    for row in rows:  # per type: its channels, then the type's total; the overall total last
        if row["per_bucket"]:
            buckets[row["bucket"]] = {key: row[key] for key in POINT_NUMBERS}
        elif row["all_types"]:
            total = _reach(row, row["created"])
        elif row["all_channels"]:
            types.append(
                {"type": row["type"], "label": row["label"], **_reach(row, row["created"]),
                 "channels": []}
            )  # fmt: skip
    by_type = {entry["type"]: entry for entry in types}
    for row in rows:
        if not row["per_bucket"] and not row["all_types"] and not row["all_channels"]:
            entry = by_type[row["type"]]
            entry["channels"].append({"channel": row["channel"], **_reach(row, entry["created"])})
    minimum = settings.analytics_min_group
    suppress([total], minimum)
    suppress(types, minimum)
    for entry in types:
        suppress(entry["channels"], minimum, parent_hidden=entry["suppressed"])
    points = []
    at = start
    while at < end:
        points.append({"at": at, **buckets.get(at, dict.fromkeys(POINT_NUMBERS, 0))})
        at += step
    suppress(points, minimum, numbers=POINT_NUMBERS)
    series = {"bucket": "hour" if step == timedelta(hours=1) else "day", "points": points}
    return {"from": start, "to": end, "total": total, "types": types, "series": series}
