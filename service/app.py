"""The application factory and its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypedDict

import asyncpg
from fastapi import FastAPI
from fastapi.responses import FileResponse

from db.pool import create_pool

from .routes import ops
from .settings import Settings

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class State(TypedDict):
    """What the lifespan hands to requests (`request.state`)."""

    settings: Settings
    pool: asyncpg.Pool


def create_app(settings: Settings) -> FastAPI:
    """Build the API for `settings`; `settings.database_url` must be resolved already."""
    if settings.database_url is None:
        raise ValueError("create_app needs settings.database_url (the CLI resolves it)")
    database_url = settings.database_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        pool = await create_pool(
            database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        try:
            yield {"settings": settings, "pool": pool}
        finally:
            await pool.close()

    app = FastAPI(title="Vividly notifications", version="0.1.0", lifespan=lifespan)

    app.include_router(ops.router)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    return app
