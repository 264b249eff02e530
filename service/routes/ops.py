"""Operational endpoints: health."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

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
