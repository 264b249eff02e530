"""Operational endpoints: liveness, readiness and metrics.

With METRICS_TOKEN set, `/metrics` and the details of `/readyz` (its problems and warnings) are
only for `Authorization: Bearer <METRICS_TOKEN>`: behind a TLS terminator every client looks
like a private address, so no network can stand for the operator. Without the token `/readyz`
still answers its status code and `status`, which is all a probe needs.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ...ops import metrics, readiness
from .. import ops_access
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
async def readyz(request: Request, settings: AppSettings, pool: Pool) -> JSONResponse:
    """200 when this process can serve: the listener is connected and hears its own NOTIFY, the
    tasks delivery needs run, the schema is not behind, and it is not shutting down; else 503
    with the list of problems. What cannot stop it from serving (the database slow to answer,
    an optional task restarting, a newer schema) comes as `warnings`, with a 200.
    With METRICS_TOKEN set, the lists are shown only for that Bearer token."""
    state = request.state
    found = await readiness.check(pool, state.listener, state.supervisor, state.shutdown)
    body: dict[str, object] = {"status": "ready"}
    if found.problems:
        body = {"status": "unavailable", "problems": found.problems}
    if found.warnings:
        body["warnings"] = found.warnings
    if not _operator(request, settings):
        body = {"status": body["status"]}
    return JSONResponse(body, status_code=503 if found.problems else 200)


def _operator(request: Request, settings: AppSettings) -> bool:
    return ops_access.allowed(request.headers.get("authorization"), settings.metrics_token)


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
    if not _operator(request, settings):
        return JSONResponse(
            {"detail": "metrics need 'Authorization: Bearer <METRICS_TOKEN>'"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    await request.state.event_metrics.refresh(pool)
    await request.state.backlog.refresh(pool)
    return Response(metrics.render(request.state.metrics), media_type=CONTENT_TYPE_LATEST)
