"""A digest entry's link: `GET /api/v1/digest/open?token=` sends the browser on to the
notification's subject (303 to service/notifications/links.py's `notification_link`).

Guarantees:
- No login, only the link's seal (`open_links.OpenLinks`): it names one student and one
  notification of theirs, and leads to that notification's subject only (never a URL taken
  from the request).
- Following the link changes nothing when it leads to this service's app: the 303 goes to the
  subject's page with `?n=<notification id>`, and the app marks that notification read and
  opened once it shows the page to its owner, signed in (web/js/main.js). A mail scanner that
  fetches every link in a digest (Safe Links, Proofpoint) therefore marks nothing, and neither
  does another student who opens the link. Counted then in `vividly_notifications_opened_total`
  by the app's report, as any click in the app.
- Only a link to the ready video on the customer's app (VIDEO_LINK_TEMPLATE) records on GET,
  opened and read (MARK_OPENED, MARK_READ: its read-state NOTIFY reaches the student's tabs),
  since no page of ours sees that click; there a scanner's fetch counts as a click.
- A notification deleted since goes to this service's home page.
- A forged, altered, truncated or expired link changes nothing and is a 400 page (JSON for a
  client not asking for HTML), with no redirect at all: not an open redirect.
- HEAD answers as GET would (status, Location) and records nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from service.notifications import sql as notifications_sql

from ...http.deps import Pool, Reach
from ...http.schemas import ErrorOut
from ...notifications.deliveries import ReachCounts, mark_opened
from ...notifications.links import absolute, notification_link
from . import pages, sql
from .answers import EmailAppSettings, Token, links_of, refusal
from .open_links import OpenLinks
from .signed_links import InvalidLink

router = APIRouter(prefix="/api/v1/digest", tags=["email digest"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "On to the notification's page (or the customer's video page)."},
    400: {"model": ErrorOut, "description": "Forged, altered or expired link: nothing changed."},
}
NOTIFICATION_PARAMETER = "n"  # the app's router reads it (web/js/router.js)


async def _follow(
    request: Request,
    pool: Pool,
    settings: EmailAppSettings,
    token: str,
    reach: ReachCounts | None,
) -> Response:
    """The answer to an open link; `reach` given (a GET): record where no page of ours can."""
    links = links_of(OpenLinks, settings)
    try:
        opening = links.verify(token)
    except InvalidLink as error:
        return refusal(request, str(error), 400, pages.open_refused)
    ids = (opening.notification_id, opening.user_id)
    payload = await pool.fetchval(sql.NOTIFICATION_PAYLOAD, *ids)
    link = notification_link(settings, payload or {})
    if payload is not None and link.startswith(absolute(settings, "/")):
        link += "?" + urlencode({NOTIFICATION_PARAMETER: opening.notification_id})
    elif payload is not None and reach is not None:
        await mark_opened(pool, *ids, reach)
        await pool.execute(notifications_sql.MARK_READ, *ids)
    return RedirectResponse(link, status_code=303)


@router.get("/open", status_code=303, response_class=RedirectResponse, responses=RESPONSES)
async def open_notification(
    request: Request, pool: Pool, settings: EmailAppSettings, reach: Reach, token: Token = ""
) -> Response:
    """On to a digest entry's notification: its page in the app, which marks it read and opened
    when shown to its owner (the customer's video page: recorded here)."""
    return await _follow(request, pool, settings, token, reach)


@router.head("/open", status_code=303, response_class=RedirectResponse, responses=RESPONSES)
async def check_open_link(
    request: Request, pool: Pool, settings: EmailAppSettings, token: Token = ""
) -> Response:
    """What GET answers (the same status and Location), recording nothing: link checkers and
    mail scanners ask with HEAD."""
    return await _follow(request, pool, settings, token, None)
