"""History, unread counts, read state, what was seen and opened, and preferences, all from the
`notifications` table.

Every query is scoped to the authenticated user: another user's notification id gets the same
404 as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query
from fastapi.exceptions import RequestValidationError

from service.notifications import sql as notifications_sql

from ...live.events import notification_json
from ...live.store import MAX_ID
from ...notifications import deliveries
from ..deps import CurrentUser, Pool, Reach
from ..schemas import (
    CLIENT_ID_MAX,
    TYPE_NAME_PATTERN,
    BulkOut,
    ErrorOut,
    HistoryOut,
    NotificationOut,
    NotificationTypesOut,
    OpenedOut,
    PreferencesIn,
    PreferencesOut,
    SeenIn,
    SeenOut,
    SnoozeIn,
    UnreadCountOut,
    WatermarkIn,
)

router = APIRouter(
    prefix="/api/v1/notifications",
    tags=["notifications"],
    responses={401: {"model": ErrorOut, "description": "Missing or invalid token."}},
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such notification of this user."}
}
# The answer of every single-notification change: the row after it, or the same 404 for a
# missing id and another user's.
ONE_NOTIFICATION: dict[str, Any] = {
    "response_model": NotificationOut,
    "response_model_exclude_unset": True,
    "responses": NOT_FOUND,
}
NotificationId = Annotated[int, Path(ge=1, le=CLIENT_ID_MAX, description="A notification id.")]
# Any well-formed type name: new types need no change here; an unknown one matches nothing.
NotificationType = Annotated[
    str,
    Query(
        pattern=TYPE_NAME_PATTERN,
        description="Only this type (a name from GET /notifications/types).",
    ),
]


@router.get("/history", response_model=HistoryOut, response_model_exclude_unset=True)
async def history(
    user: CurrentUser,
    pool: Pool,
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page.")] = 20,
    before: Annotated[
        int | None,
        Query(ge=1, le=CLIENT_ID_MAX, description="Only ids below this (keyset cursor)."),
    ] = None,
    unread_only: Annotated[bool, Query(description="Only unread, non-archived.")] = False,
    type: NotificationType | None = None,
    include_dismissed: Annotated[bool, Query(description="Include archived ones.")] = False,
    archived: Annotated[
        bool,
        Query(
            description="Only archived ones (snoozed ones among them, with `snoozed_until`);"
            " with `unread_only` none (unread ones are never archived)."
        ),
    ] = False,
) -> dict[str, Any]:
    """The user's notifications, newest first, paged by id."""
    sql = notifications_sql.history_page(
        unread_only=unread_only,
        include_dismissed=include_dismissed,
        by_type=type is not None,
        archived=archived,
    )
    args: list[Any] = [user.id, MAX_ID if before is None else before, limit + 1]
    if type is not None:
        args.append(type)
    rows = await pool.fetch(sql, *args)
    items = [notification_json(row) for row in rows if row["id"] is not None]
    more = len(items) > limit
    items = items[:limit]
    return {
        "items": items,
        "next_before": items[-1]["id"] if more else None,
        "unread_count": rows[0]["unread_count"],
    }


@router.get("/unread-count", response_model=UnreadCountOut)
async def unread_count(user: CurrentUser, pool: Pool) -> dict[str, Any]:
    """Unread, non-archived notifications, in total and per type."""
    by_type = {
        row["type"]: row["unread"]
        for row in await pool.fetch(notifications_sql.UNREAD_BY_TYPE, user.id)
    }
    return {"unread_count": sum(by_type.values()), "by_type": by_type}


async def _change_one(
    pool: Pool, sql: str, notification_id: int, user: CurrentUser, *more: Any
) -> Any:
    row = await pool.fetchrow(sql, notification_id, user.id, *more)
    if row is None:
        raise HTTPException(404, detail="notification not found")
    return notification_json(row)


@router.post("/{notification_id}/read", **ONE_NOTIFICATION)
async def mark_read(notification_id: NotificationId, user: CurrentUser, pool: Pool) -> Any:
    """Mark one notification read (idempotent: the first read time is kept)."""
    return await _change_one(pool, notifications_sql.MARK_READ, notification_id, user)


@router.post("/{notification_id}/unread", **ONE_NOTIFICATION)
async def mark_unread(notification_id: NotificationId, user: CurrentUser, pool: Pool) -> Any:
    """Mark one notification unread again (idempotent)."""
    return await _change_one(pool, notifications_sql.MARK_UNREAD, notification_id, user)


@router.delete("/{notification_id}", **ONE_NOTIFICATION)
async def dismiss(notification_id: NotificationId, user: CurrentUser, pool: Pool) -> Any:
    """Archive one notification: it leaves history and counts but is not deleted."""
    return await _change_one(pool, notifications_sql.DISMISS, notification_id, user)


@router.post("/{notification_id}/restore", **ONE_NOTIFICATION)
async def restore(notification_id: NotificationId, user: CurrentUser, pool: Pool) -> Any:
    """Undo archive: back in the inbox, read or unread as it was; cancels a snooze. Idempotent.
    Every device hears `restored`."""
    return await _change_one(pool, notifications_sql.RESTORE, notification_id, user)


@router.post("/{notification_id}/snooze", **ONE_NOTIFICATION)
async def snooze(
    notification_id: NotificationId, body: SnoozeIn, user: CurrentUser, pool: Pool
) -> Any:
    """Archive it until `until`; then it comes back as a new notification (a new id) on every
    device: live on open streams, replayed to the others when they reconnect, unread. Snoozing
    again moves the time; `restore` cancels it."""
    return await _change_one(pool, notifications_sql.SNOOZE, notification_id, user, body.until)


@router.post("/seen", response_model=SeenOut)
async def mark_seen(body: SeenIn, user: CurrentUser, pool: Pool, reach: Reach) -> Any:
    """Report notifications that were on screen (at most 100 ids). Idempotent: the first report
    of each is kept; ids that are not the caller's change nothing."""
    status = await pool.execute(notifications_sql.MARK_SEEN, user.id, body.ids)
    seen = int(status.split()[-1])
    reach.seen += seen
    return {"seen": seen}


@router.post("/{notification_id}/opened", response_model=OpenedOut, responses=NOT_FOUND)
async def mark_opened(
    notification_id: NotificationId, user: CurrentUser, pool: Pool, reach: Reach
) -> Any:
    """Report that the user acted on a notification (Watch now, an answer); it is seen too.
    Idempotent: the first time is kept."""
    row = await deliveries.mark_opened(pool, notification_id, user.id, reach)
    if row is None:
        raise HTTPException(404, detail="notification not found")
    return {"id": row["id"], "seen_at": row["seen_at"], "opened_at": row["opened_at"]}


async def _change_all(pool: Pool, sql: str, user: CurrentUser, body: WatermarkIn | None) -> Any:
    up_to_id = body.up_to_id if body is not None else None
    async with pool.acquire() as connection, connection.transaction():
        status = await connection.execute(sql, user.id, MAX_ID if up_to_id is None else up_to_id)
        unread = await connection.fetchval(notifications_sql.UNREAD_COUNT, user.id)
    return {"updated": int(status.split()[-1]), "up_to_id": up_to_id, "unread_count": unread}


@router.post("/read-all", response_model=BulkOut)
async def read_all(
    user: CurrentUser, pool: Pool, body: Annotated[WatermarkIn | None, Body()] = None
) -> Any:
    """Mark every unread notification up to `up_to_id` (default: all) read."""
    return await _change_all(pool, notifications_sql.READ_ALL, user, body)


@router.post("/dismiss-all", response_model=BulkOut)
async def dismiss_all(
    user: CurrentUser, pool: Pool, body: Annotated[WatermarkIn | None, Body()] = None
) -> Any:
    """Archive every notification up to `up_to_id` (default: all)."""
    return await _change_all(pool, notifications_sql.DISMISS_ALL, user, body)


@router.get("/types", response_model=NotificationTypesOut)
async def notification_types(user: CurrentUser, pool: Pool) -> dict[str, Any]:
    """Every registered notification type with the label and description clients show."""
    rows = await pool.fetch(notifications_sql.NOTIFICATION_TYPES)
    return {"types": [dict(row) for row in rows]}


async def _preferences(pool: Pool, user: CurrentUser) -> dict[str, Any]:
    rows = await pool.fetch(notifications_sql.PREFERENCES, user.id)
    return {"in_app": {row["type"]: row["in_app"] for row in rows}}


@router.get("/preferences", response_model=PreferencesOut)
async def get_preferences(user: CurrentUser, pool: Pool) -> Any:
    """Per type, whether it is delivered in the app (default: everything on)."""
    return await _preferences(pool, user)


@router.put("/preferences", response_model=PreferencesOut)
async def put_preferences(body: PreferencesIn, user: CurrentUser, pool: Pool) -> Any:
    """Change the types named in the body; a muted type creates no notification.

    Every registered type is accepted; an unknown one is a 422 naming it, and nothing changes.
    """
    async with pool.acquire() as connection, connection.transaction():
        unknown = await connection.fetch(notifications_sql.UNKNOWN_TYPES, list(body.in_app))
        if unknown:
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "in_app", row["name"]),
                        "msg": f"unknown notification type {row['name']!r}",
                        "type": "unknown_notification_type",
                        "input": row["name"],
                    }
                    for row in unknown
                ]
            )
        await connection.executemany(
            notifications_sql.SET_PREFERENCE,
            [(user.id, name, enabled) for name, enabled in body.in_app.items()],
        )
    return await _preferences(pool, user)
