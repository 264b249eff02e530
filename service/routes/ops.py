"""Operational endpoints: health and metrics."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from .. import metrics
from ..deps import AppSettings, Pool
from ..schemas import ErrorOut

router = APIRouter(tags=["ops"])


@router.get("/healthz", responses={503: {"description": "The database is unreachable."}})
async def healthz(pool: Pool) -> JSONResponse:
    """200 when the database answers within 2 s, else 503."""
    try:
        async with asyncio.timeout(2):
            await pool.fetchval("SELECT 1")
    except Exception as error:  # any failure means "down"
        return JSONResponse(
            {"status": "unavailable", "detail": f"database: {type(error).__name__}"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        401: {"model": ErrorOut, "description": "METRICS_TOKEN is set and was not sent."},
    },
)
async def prometheus(request: Request, settings: AppSettings) -> Response:
    """Prometheus metrics: streams, channels, listener state, tasks, process RSS and CPU.

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
    return Response(metrics.render(request.state.metrics), media_type=CONTENT_TYPE_LATEST)
