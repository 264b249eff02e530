"""Operational endpoints: liveness, readiness and metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ...ops import metrics, readiness
from ..deps import AppSettings, Pool
from ..schemas import ErrorOut

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """200 while the process serves requests. No database call: restart only what is stuck."""
    return JSONResponse({"status": "ok"})


@router.get(
    "/readyz",
    responses={
        503: {
            "description": "Not ready; `problems` says why, one sentence per failed check.",
            "content": {
                "application/json": {
                    "example": {"status": "unavailable", "problems": ["database: unreachable"]}
                }
            },
        }
    },
)
async def readyz(request: Request, pool: Pool) -> JSONResponse:
    """200 when this process can serve: the listener is connected and hears its own NOTIFY, the
    tasks delivery needs run, the schema is not behind, and it is not shutting down; else 503
    with the list of problems. What cannot stop it from serving (the database slow to answer,
    an optional task restarting, a newer schema) comes as `warnings`, with a 200."""
    state = request.state
    found = await readiness.check(pool, state.listener, state.supervisor, state.shutdown)
    body: dict[str, object] = {"status": "ready"}
    if found.problems:
        body = {"status": "unavailable", "problems": found.problems}
    if found.warnings:
        body["warnings"] = found.warnings
    return JSONResponse(body, status_code=503 if found.problems else 200)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        401: {"model": ErrorOut, "description": "METRICS_TOKEN is set and was not sent."},
    },
)
async def prometheus(request: Request, settings: AppSettings, pool: Pool) -> Response:
    """Prometheus metrics: streams, channels, listener state, deliveries, tasks, GC, process.

    With METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`.
    """
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        sent = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(sent, expected):
            return JSONResponse(
                {"detail": "metrics need 'Authorization: Bearer <METRICS_TOKEN>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    await request.state.event_metrics.refresh(pool)
    return Response(metrics.render(request.state.metrics), media_type=CONTENT_TYPE_LATEST)
