"""The application factory and its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypedDict

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from db.pool import create_pool

from .hub import Hub
from .listener import Listener
from .metrics import registry_for
from .retention import prune_periodically
from .routes import content_requests, dev, notifications, ops, session, stream
from .settings import Settings
from .worker import create_worker
from .worker.runner import Worker

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class State(TypedDict):
    """What the lifespan hands to requests (`request.state`)."""

    settings: Settings
    pool: asyncpg.Pool
    hub: Hub
    listener: Listener
    metrics: CollectorRegistry


def create_app(settings: Settings, *, with_worker: bool = False) -> FastAPI:
    """Build the API for `settings`; `settings.database_url` must be resolved already.

    `with_worker` also runs one content worker in the same process (`vividly-notify run`).
    """
    if settings.database_url is None:
        raise ValueError("create_app needs settings.database_url (the CLI resolves it)")
    database_url = settings.database_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        pool = await create_pool(
            database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        listener = Listener(
            database_url,
            pool,
            unlisten_delay=settings.unlisten_delay_seconds,
            heartbeat=settings.listener_heartbeat_seconds,
        )
        hub = Hub(listener, max_streams_per_user=settings.max_streams_per_user)
        app.state.hub = hub  # the server's shutdown hook ends streams through it
        listener.start(hub.publish)
        retention: asyncio.Task[None] | None = None
        if settings.retention_days is not None:
            retention = asyncio.create_task(
                prune_periodically(
                    pool,
                    days=settings.retention_days,
                    interval=settings.retention_interval_seconds,
                ),
                name="vividly-retention",
            )
        worker: Worker | None = None
        working: asyncio.Task[None] | None = None
        if with_worker:
            worker = create_worker(database_url, pool, settings)
            working = asyncio.create_task(worker.run(), name="vividly-worker")
        try:
            yield {
                "settings": settings,
                "pool": pool,
                "hub": hub,
                "listener": listener,
                "metrics": registry_for(hub, listener),
            }
        finally:
            if worker is not None and working is not None:
                worker.stop()
                await working
            if retention is not None:
                retention.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retention
            hub.close_all("shutdown")
            await listener.stop()
            await pool.close()

    app = FastAPI(title="Vividly notifications", version="0.1.0", lifespan=lifespan)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input as UTF-8; a lone surrogate in it cannot be
        # encoded, which would turn this 422 into a 500. ASCII-escaped JSON always encodes.
        body = json.dumps({"detail": jsonable_encoder(error.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    if settings.stream_fast_path:
        app.add_middleware(stream.StreamFastPath)
    app.include_router(ops.router)
    app.include_router(stream.router)
    app.include_router(notifications.router)
    app.include_router(session.router)
    app.include_router(content_requests.router)
    if settings.dev_login_enabled:
        app.include_router(dev.router)

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    return app
