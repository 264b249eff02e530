"""Web Push endpoints: the VAPID public key, subscribe, check and unsubscribe a browser, and the
actions a clicked push takes with its own token.

Each acts for the authenticated user only: a subscription is stored under that user, checking
says only whether an endpoint is the caller's, and unsubscribing removes only that user's own.
`POST /push/actions/{token}/{read|opened}` needs no session: the token
(`actions.py`) grants those two changes to its one notification of its one user,
until it expires; a forged, altered or expired one is a 403 and changes nothing. With Web Push
off (no VAPID keys) `GET /push/public-key` says so in a 200 (`available: false`, so a page asks
without an error), and every other endpoint answers 404 `{"detail": "Web Push is off on this
server"}`.
A subscription that is malformed, not https, on a private or loopback address or an IP literal
(SSRF), or with keys of the wrong size is a 422 naming the field, and nothing is stored
(`service/channels/push/subscriptions.py`).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from service.notifications import sql as notifications_sql

from ...http.deps import CurrentUser, Pool, Reach, app_settings
from ...http.schemas import ErrorOut
from ...notifications.deliveries import mark_opened
from . import actions, sql, subscriptions, worker_script
from .settings import PushSettings

PushAppSettings = Annotated[PushSettings, Depends(app_settings)]

router = APIRouter(
    prefix="/api/v1/push",
    tags=["push"],
    responses={
        401: {"model": ErrorOut, "description": "Missing or invalid token."},
        404: {"model": ErrorOut, "description": "Web Push is off on this server."},
    },
)

OFF = "Web Push is off on this server"
Key = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class KeysIn(BaseModel):
    p256dh: Key = Field(description="The browser's P-256 public key, base64url (65 bytes).")
    auth: Key = Field(description="The browser's auth secret, base64url (16 bytes).")


Endpoint = Annotated[
    str,
    StringConstraints(max_length=subscriptions.MAX_ENDPOINT, pattern=r"^[!-~]+$"),
    AfterValidator(subscriptions.canonical_endpoint),  # one form for storing and looking up
]


class SubscriptionIn(BaseModel):
    """What `PushSubscription.toJSON()` gives in the browser (other members are ignored)."""

    model_config = ConfigDict(extra="ignore")

    endpoint: Endpoint = Field(description="https URL.")
    expirationTime: float | None = Field(default=None, description="Ignored.")
    keys: KeysIn


class EndpointIn(BaseModel):
    endpoint: Endpoint


class PublicKeyOut(BaseModel):
    available: bool = Field(description="Whether this server sends Web Push (VAPID keys set).")
    public_key: str | None = Field(
        description="The applicationServerKey for pushManager.subscribe; null when not available."
    )


class SubscriptionOut(BaseModel):
    endpoint: str
    created: bool = Field(
        description="False when this browser was the caller's already (true when it moved "
        "from another user: nobody learns whose it was)."
    )


class SubscriptionStateOut(BaseModel):
    endpoint: str
    subscribed: bool = Field(description="Whether pushes to this endpoint are the caller's.")


def _require_push(settings: PushAppSettings) -> None:
    if not settings.push_enabled:
        raise HTTPException(404, detail=OFF)


def _refusal(error: subscriptions.Refused) -> HTTPException:
    location = ["body", *error.field.split(".")]
    return HTTPException(
        422, detail=[{"loc": location, "msg": error.reason, "type": "value_error"}]
    )


@router.get("/public-key", response_model=PublicKeyOut)
async def public_key(user: CurrentUser, settings: PushAppSettings) -> dict[str, Any]:
    """Whether this server pushes, and the VAPID application-server key a browser subscribes
    with (a 200 either way: what the page reads to offer push or say it is not available)."""
    if not settings.push_enabled:
        return {"available": False, "public_key": None}
    return {"available": True, "public_key": settings.vapid_public_key}


@router.post(
    "/subscriptions",
    response_model=SubscriptionOut,
    status_code=201,
    responses={200: {"model": SubscriptionOut, "description": "Subscribed already (renewed)."}},
)
async def subscribe(
    body: SubscriptionIn,
    user: CurrentUser,
    pool: Pool,
    settings: PushAppSettings,
    response: Response,
) -> dict[str, Any]:
    """Store this browser's push subscription for the user (moved from another user if any)."""
    _require_push(settings)
    try:
        checked = subscriptions.check(
            body.endpoint,
            body.keys.p256dh,
            body.keys.auth,
            allow_loopback=settings.push_allow_loopback,
        )
    except subscriptions.Refused as error:
        raise _refusal(error) from None
    async with pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(
            sql.PUSH_SUBSCRIBE, user.id, checked.endpoint, checked.p256dh, checked.auth
        )
        await connection.execute(
            sql.PUSH_TRIM_SUBSCRIPTIONS, user.id, settings.push_max_subscriptions_per_user
        )
    if not row["created"]:
        response.status_code = 200
    return {"endpoint": checked.endpoint, "created": row["created"]}


@router.post("/unsubscribe", status_code=204)
async def unsubscribe(
    body: EndpointIn, user: CurrentUser, pool: Pool, settings: PushAppSettings
) -> Response:
    """Forget this browser's subscription (only the user's own; 204 whether or not it existed)."""
    _require_push(settings)
    await pool.execute(sql.PUSH_UNSUBSCRIBE, user.id, body.endpoint)
    return Response(status_code=204)


@router.get("/subscription", response_model=SubscriptionStateOut)
async def subscription_state(
    user: CurrentUser,
    pool: Pool,
    settings: PushAppSettings,
    endpoint: Annotated[Endpoint, Query()],
) -> dict[str, Any]:
    """Whether this browser's endpoint is subscribed for the caller (false when it is nobody's
    or another user's: a browser shared by two users shows the truth to each)."""
    _require_push(settings)
    mine = await pool.fetchval(sql.PUSH_IS_SUBSCRIBED, user.id, endpoint)
    return {"endpoint": endpoint, "subscribed": bool(mine)}


Token = Annotated[str, Path(max_length=120)]


@router.post(
    "/actions/{token}/{action}",
    status_code=204,
    responses={403: {"model": ErrorOut, "description": "Forged, altered or expired token."}},
)
async def push_action(
    token: Token,
    action: Literal["read", "opened"],
    pool: Pool,
    settings: PushAppSettings,
    reach: Reach,
) -> Response:
    """What a clicked push does without a session: mark its notification read, or opened (and
    seen). Idempotent; 204 also when the notification no longer exists."""
    _require_push(settings)
    try:
        granted = actions.verify(actions.key_for(settings), token, time.time())
    except actions.Invalid as error:
        raise HTTPException(403, detail=f"push action token refused: {error}") from None
    if action == "read":
        await pool.execute(notifications_sql.MARK_READ, granted.notification_id, granted.user_id)
    else:
        await mark_opened(pool, granted.notification_id, granted.user_id, reach)
    return Response(status_code=204)


# The push service worker, with the client package's type registry in it (worker_script.py),
# served at the root so its scope is the whole origin (a customer's origin imports it into its
# own worker instead). Built once per process, at its first request; served whether or not Web
# Push is on.
worker_router = APIRouter(include_in_schema=False)


@worker_router.get("/sw.js")
async def service_worker() -> Response:
    """The service worker script."""
    # Never cached past a reload, so a fixed worker reaches browsers at their next visit.
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
    return Response(worker_script.cached(), media_type="text/javascript", headers=headers)
