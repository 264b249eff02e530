"""The application factory and its lifespan."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypedDict

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry

from db.pool import create_pool

from . import readiness
from .cors import CrossOrigin
from .digest.sender import start_digest_sender
from .feed import Feed, PostgresFeedStore
from .headers import SecurityHeaders
from .hub import Hub
from .listener import Listener
from .logs import RequestContext
from .metrics import EventMetrics, registry_for
from .pauses import FreezePolicy, install_pause_histogram
from .retention import prune_periodically
from .routes import content_requests, dev, digest, notifications, ops, session, stream
from .settings import Settings
from .supervisor import Supervisor
from .worker import create_worker

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ECHO_CHARS = 64  # of a bad input, echoed back in a 422


def _short_input(problem: dict[str, Any]) -> dict[str, Any]:
    """A validation problem whose `input` is at most a short prefix of what was sent."""
    if "input" not in problem:
        return problem
    value = problem["input"]
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
        if len(value) <= ECHO_CHARS:
            return problem
    if len(value) > ECHO_CHARS:
        problem = {**problem, "input": value[:ECHO_CHARS] + "…"}
    return problem


class State(TypedDict):
    """What the lifespan hands to requests (`request.state`)."""

    settings: Settings
    pool: asyncpg.Pool
    hub: Hub
    feed: Feed
    listener: Listener
    supervisor: Supervisor
    metrics: CollectorRegistry
    event_metrics: EventMetrics


def create_app(settings: Settings, *, with_worker: bool = False) -> FastAPI:
    """Build the API for `settings`; `settings.database_url` must be resolved already.

    `with_worker` also runs one content worker in the same process (`vividly-notify run`).
    """
    if settings.database_url is None:
        raise ValueError("create_app needs settings.database_url (the CLI resolves it)")
    if settings.jwt_algorithm == "HS256" and settings.jwt_secret is None:
        raise ValueError("create_app needs settings.jwt_secret for HS256 (the CLI resolves it)")
    database_url = settings.database_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        # Shutdown runs the callbacks below in reverse order, each one even if another raised:
        # the worker finishes its job, streams end, tasks stop, the listener and pool close.
        async with contextlib.AsyncExitStack() as stack:
            pool = await create_pool(
                database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
            )
            stack.push_async_callback(pool.close)

            async def probe(channel: str, payload: str) -> None:
                # Sent the way the writers' NOTIFYs are: the listener must hear it.
                await pool.execute("SELECT pg_notify($1, $2)", channel, payload)

            listener = Listener(
                settings.listen_database_url or database_url,
                heartbeat=settings.listener_heartbeat_seconds,
                probe=probe,
            )
            listener.start()
            stack.push_async_callback(listener.stop)
            supervisor = Supervisor()
            stack.push_async_callback(supervisor.stop_all)
            query_timeout = max(3 * settings.listener_heartbeat_seconds, 10.0)
            feed = Feed(PostgresFeedStore(pool, timeout=query_timeout), listener)
            hub = Hub(
                feed,
                max_streams_per_user=settings.max_streams_per_user,
                max_streams=settings.max_streams,
                unfollow_delay=settings.unlisten_delay_seconds,
            )
            stack.callback(hub.close)
            stack.callback(hub.close_all, "shutdown")
            app.state.hub = hub  # the server's shutdown hook ends streams through it
            app.state.listener = listener
            supervisor.start("feed", lambda: feed.run(hub.publish))
            gate = min(1.0, settings.listener_heartbeat_seconds / 2)
            supervisor.start("admission", lambda: readiness.gate_streams(listener, hub, gate))
            install_pause_histogram()
            if settings.gc_freeze_seconds:
                pauses = FreezePolicy(
                    interval=settings.gc_freeze_seconds,
                    full_interval=settings.gc_full_collect_seconds,
                )
                supervisor.start("gc", pauses.run)
            if settings.retention_days is not None:
                days, interval = settings.retention_days, settings.retention_interval_seconds
                supervisor.start(
                    "retention",
                    lambda: prune_periodically(
                        pool, days=days, interval=interval, media_dir=settings.media_dir
                    ),
                )
            start_digest_sender(supervisor, pool, settings)
            if with_worker:
                worker = create_worker(database_url, pool, settings)
                supervisor.start("worker", worker.run)

                async def stop_worker() -> None:
                    worker.stop()  # finish or release the current job, then return
                    await supervisor.stop("worker")

                stack.push_async_callback(stop_worker)
            registry = registry_for(hub, listener, supervisor)
            yield {
                "settings": settings,
                "pool": pool,
                "hub": hub,
                "feed": feed,
                "listener": listener,
                "supervisor": supervisor,
                "metrics": registry,
                "event_metrics": EventMetrics(registry),
            }

    # /docs and /redoc with their scripts served from the fastapi-offline wheel, not a CDN.
    app = FastAPIOffline(
        title="Vividly notifications",
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,  # 413 before a larger body is read
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input as UTF-8; a lone surrogate in it cannot be
        # encoded, which would turn this 422 into a 500. ASCII-escaped JSON always encodes.
        detail = [_short_input(problem) for problem in jsonable_encoder(error.errors())]
        body = json.dumps({"detail": detail}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    app.add_middleware(CrossOrigin, origins=settings.cors_origins)
    app.add_middleware(SecurityHeaders)
    # Outermost, so an idle stream's call stack holds no other middleware's frame; it applies
    # the same CORS itself to stream requests that carry an Origin.
    app.add_middleware(stream.StreamEndpoint, origins=settings.cors_origins)
    app.add_middleware(RequestContext)  # keeps no frame: see logs.py
    app.include_router(ops.router)
    app.include_router(notifications.router)
    app.include_router(session.router)
    app.include_router(content_requests.router)
    app.include_router(digest.router)
    if settings.dev_login_enabled:
        app.include_router(dev.router)

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    app.mount("/client", StaticFiles(directory=WEB_DIR.parent / "clients/js/src"), name="client")
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            document["paths"][stream.STREAM_PATH] = stream.OPENAPI_PATH
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
