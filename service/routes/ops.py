"""Operational endpoints: health and metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from .. import metrics
from ..deps import Pool

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
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def prometheus(request: Request) -> Response:
    """Prometheus metrics: streams, channels, listener state, tasks, process RSS and CPU."""
    return Response(metrics.render(request.state.metrics), media_type=CONTENT_TYPE_LATEST)
