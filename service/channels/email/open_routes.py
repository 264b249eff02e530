"""A digest entry's link: `GET /api/v1/digest/open?token=` records the click, then sends the
browser on to the notification (303 to service/notifications/links.py's `notification_link`).

Guarantees:
- No login, only the link's signature (`signed_links.OpenLinks`): it names one student and
  one notification of theirs, and acts on that notification only.
- A valid link marks the notification opened (and seen: MARK_OPENED, counted in
  `vividly_notifications_opened_total` the first time) and read (MARK_READ, whose read-state
  NOTIFY reaches the student's open tabs), then answers 303 to the notification's link, which is
  always the customer's video page or this service (never a URL taken from the request). A
  notification deleted since goes to this service's home page.
- A forged, altered, truncated or expired link changes nothing and is a 400 page (JSON for a
  client not asking for HTML), with no redirect at all: not an open redirect.
- HEAD answers as GET would (status, Location) and records nothing.
- Known approximation: a GET acts, because a click is the intent and one more page would cost
  every student a second click. A mail scanner that prefetches links therefore marks the
  notification opened and read as if the student had clicked.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from service.notifications import sql as notifications_sql

from ...http.deps import Pool, Reach
from ...http.schemas import ErrorOut
from ...notifications.deliveries import mark_opened
from ...notifications.links import notification_link
from . import pages, sql
from .answers import EmailAppSettings, Token, links_of, refusal
from .open_links import OpenLinks
from .signed_links import InvalidLink

router = APIRouter(prefix="/api/v1/digest", tags=["email digest"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "Recorded; on to the notification's video (or page)."},
    400: {"model": ErrorOut, "description": "Forged, altered or expired link: nothing changed."},
}


@router.get("/open", status_code=303, response_class=RedirectResponse, responses=RESPONSES)
async def open_notification(
    request: Request, pool: Pool, settings: EmailAppSettings, reach: Reach, token: Token = ""
) -> Response:
    """Record a click on a digest's entry (opened, seen, read), then 303 to the notification."""
    links = links_of(OpenLinks, settings)
    try:
        opening = links.verify(token)
    except InvalidLink as error:
        return refusal(request, str(error), 400, pages.open_refused)
    ids = (opening.notification_id, opening.user_id)
    await mark_opened(pool, *ids, reach)
    row = await pool.fetchrow(notifications_sql.MARK_READ, *ids)
    payload = row["payload"] if row is not None else {}
    return RedirectResponse(notification_link(settings, payload), status_code=303)


@router.head("/open", status_code=303, response_class=RedirectResponse, responses=RESPONSES)
async def check_open_link(
    request: Request, pool: Pool, settings: EmailAppSettings, token: Token = ""
) -> Response:
    """What GET answers (the same status and Location), recording nothing: link checkers and
    mail scanners ask with HEAD."""
    links = links_of(OpenLinks, settings)
    try:
        opening = links.verify(token)
    except InvalidLink as error:
        return refusal(request, str(error), 400, pages.open_refused)
    payload = await pool.fetchval(
        sql.NOTIFICATION_PAYLOAD, opening.notification_id, opening.user_id
    )
    return RedirectResponse(notification_link(settings, payload or {}), status_code=303)
