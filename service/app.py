"""The application factory and its lifespan."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable
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
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from db.pool import create_pool

from .channels.backlog import BacklogMetrics
from .channels.base import Running
from .channels.registry import CHANNELS, NAMES
from .http.cors import CrossOrigin
from .http.failures import ServerErrors
from .http.headers import SecurityHeaders
from .http.metrics import HttpMetrics, RouteMetrics
from .http.not_found import not_found
from .http.routes import admin, dev, docs, install, notifications, ops, session, stream
from .live.feed import Feed
from .live.hub import Hub
from .live.listener import Listener
from .live.store import PostgresFeedStore
from .live.subjects import PREFERENCES_PATH, REQUEST_PATH, VIDEO_PATH
from .notifications.analytics import AnalyticsGate
from .notifications.deliveries import DeliveryRecorder, ReachCounts
from .notifications.snooze import wake_periodically
from .ops import readiness
from .ops.metrics import EventMetrics, registry_for
from .ops.pool_metrics import PoolCollector
from .ops.retention import prune_periodically
from .ops.shutdown import Shutdown
from .requests import media
from .requests import routes as content_requests
from .requests.worker import create_worker
from .runtime.logs import RequestContext
from .runtime.pauses import FreezePolicy, freeze_start_up, install_pause_histogram
from .runtime.supervisor import Supervisor
from .settings import Settings

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
logger = logging.getLogger(__name__)
ECHO_CHARS = 64  # of a bad input, echoed back in a 422
WAKE_RESOLUTION = 0.05  # seconds: how late at most a stream's keepalive or deadline may come


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


class ServiceApp(FastAPI):
    """The API, serving `GET /api/v1/notifications/stream` in front of its middleware stack.

    An idle stream keeps its whole call stack alive for as long as it lasts. FastAPI's own
    layers (its error middleware, telemetry and body limit) held ~2.5 KiB of frames per idle
    stream (bench/RESULTS.md); `__call__` is a plain method returning the awaitable, so this
    dispatch keeps no frame either. Serve it as ASGI 3 (`server_config` says so to uvicorn).
    fastapi-offline builds a plain FastAPI (it is a function, not a class): `create_app`
    narrows that object's class to this one, which adds no state of its own.
    """

    stream_entry: ASGIApp | None = None

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:  # type: ignore[override]
        entry = self.stream_entry
        if (
            entry is not None
            and scope["type"] == "http"
            and scope["path"] == stream.STREAM_PATH
            and scope["method"] == "GET"
        ):
            scope["app"] = self
            return entry(scope, receive, send)
        return super().__call__(scope, receive, send)


class State(TypedDict):
    """What the lifespan hands to requests (`request.state`)."""

    settings: Settings
    pool: asyncpg.Pool
    hub: Hub
    feed: Feed
    listener: Listener
    supervisor: Supervisor
    shutdown: Shutdown
    metrics: CollectorRegistry
    event_metrics: EventMetrics
    http_metrics: HttpMetrics
    backlog: BacklogMetrics
    deliveries: DeliveryRecorder
    reach: ReachCounts
    analytics_gate: AnalyticsGate


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
                tcp_timeout=settings.listener_tcp_timeout_seconds,
                deaf_probes=settings.listener_deaf_probes,
            )
            listener.start()
            stack.push_async_callback(listener.stop)
            supervisor = Supervisor()
            stack.push_async_callback(supervisor.stop_all)
            reach = ReachCounts()
            deliveries = DeliveryRecorder(
                pool,
                interval=settings.delivery_flush_seconds,
                max_pending=settings.delivery_max_pending,
                counts=reach,
            )
            supervisor.start("deliveries", deliveries.run, optional=True)

            async def flush_deliveries() -> None:
                # After the streams have ended (uvicorn waits for them), before the pool closes.
                await supervisor.stop("deliveries", grace=0)
                await deliveries.close()

            stack.push_async_callback(flush_deliveries)
            query_timeout = max(3 * settings.listener_heartbeat_seconds, 10.0)
            feed = Feed(PostgresFeedStore(pool, timeout=query_timeout), listener)
            hub = Hub(
                feed,
                max_streams_per_user=settings.max_streams_per_user,
                displaced_retry_ms=settings.displaced_retry_ms,
                max_streams=settings.max_streams,
                unfollow_delay=settings.unlisten_delay_seconds,
                wake_resolution=min(WAKE_RESOLUTION, settings.keepalive_seconds / 2),
            )
            stack.callback(hub.close)
            stack.callback(hub.close_all, "shutdown")
            shutdown = Shutdown(hub, settings)
            shutdown.after_drain(deliveries.flush)
            app.state.hub = hub
            app.state.shutdown = shutdown  # the server's shutdown hook drains streams through it
            app.state.listener = listener
            supervisor.start("feed", lambda: feed.run(hub.publish))
            supervisor.start("wheel", hub.wheel.run)  # streams' keepalives and deadlines
            gate = min(1.0, settings.listener_heartbeat_seconds / 2)
            supervisor.start(
                "admission",
                lambda: readiness.gate_streams(
                    listener,
                    hub,
                    gate,
                    drain_seconds=settings.deaf_drain_seconds,
                    retry_ms=settings.sse_retry_ms,
                ),
            )
            install_pause_histogram()
            if settings.gc_freeze_seconds:
                pauses = FreezePolicy(
                    interval=settings.gc_freeze_seconds,
                    full_interval=settings.gc_full_collect_seconds,
                )
                supervisor.start("gc", pauses.run, optional=True)
            supervisor.start(
                "snooze",
                lambda: wake_periodically(
                    pool,
                    poll=settings.snooze_poll_seconds,
                    batch_size=settings.snooze_batch_size,
                ),
                optional=True,
            )
            if settings.retention_days is not None:
                days, interval = settings.retention_days, settings.retention_interval_seconds
                supervisor.start(
                    "retention",
                    lambda: prune_periodically(
                        pool,
                        days=days,
                        interval=interval,
                        media_dir=settings.media_dir,
                        delete_media=media.delete,
                        batch_size=settings.retention_batch_size,
                    ),
                    optional=True,
                )
            running = Running(
                pool, settings, supervisor, reach, stack.push_async_callback, shutdown
            )
            for channel in CHANNELS:
                channel.start(running)
            if with_worker:
                worker = create_worker(database_url, pool, settings)
                supervisor.start("worker", worker.run, optional=True)

                async def stop_worker() -> None:
                    worker.stop()  # finish or release the current job, then return
                    await supervisor.stop("worker")

                stack.push_async_callback(stop_worker)
            registry = registry_for(
                hub,
                listener,
                supervisor,
                reach,
                deliveries,
                NAMES,
                max_streams=settings.max_streams,
            )
            registry.register(PoolCollector(pool, "api"))
            backlog = BacklogMetrics(
                registry, push=settings.push_enabled, digest=settings.smtp_host is not None
            )
            state: State = {
                "settings": settings,
                "pool": pool,
                "hub": hub,
                "feed": feed,
                "listener": listener,
                "supervisor": supervisor,
                "shutdown": shutdown,
                "metrics": registry,
                "event_metrics": EventMetrics(registry),
                "http_metrics": HttpMetrics(registry),
                "backlog": backlog,
                "deliveries": deliveries,
                "reach": reach,
                "analytics_gate": AnalyticsGate(timeout=settings.analytics_timeout_seconds),
            }
            if settings.gc_freeze_seconds:
                freeze_start_up()  # last: uvicorn accepts connections once this returns
            yield state

    # /docs and /redoc with their scripts served from the fastapi-offline wheel, not a CDN
    # (/redoc is routes/docs.py's: the wheel's page would still fetch a logo from one).
    app = FastAPIOffline(
        redoc_url=None,
        title="Vividly notifications",
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,  # 413 before a larger body is read
    )
    app.__class__ = ServiceApp
    assert isinstance(app, ServiceApp)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input as UTF-8; a lone surrogate in it cannot be
        # encoded, which would turn this 422 into a 500. ASCII-escaped JSON always encodes.
        detail = [_short_input(problem) for problem in jsonable_encoder(error.errors())]
        body = json.dumps({"detail": detail}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")

    app.add_exception_handler(HTTPException, not_found)  # a browser's 404 is a page
    app.add_middleware(ServerErrors)  # innermost: its 500 gets the headers below
    app.add_middleware(
        CrossOrigin,
        origins=settings.cors_origins,
        signed_link_paths=[path for channel in CHANNELS for path in channel.signed_link_paths],
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RouteMetrics)  # by route template: after routing, inside RequestContext
    app.add_middleware(RequestContext)  # keeps no frame: see logs.py
    # In front of everything else, so an idle stream's call stack holds no other middleware's
    # frame; it applies the same CORS itself to stream requests that carry an Origin.
    app.stream_entry = RequestContext(
        stream.StreamEndpoint(super(ServiceApp, app).__call__, origins=settings.cors_origins)
    )
    app.include_router(ops.router)
    app.include_router(docs.router)
    app.include_router(install.router)
    app.include_router(notifications.router)
    app.include_router(session.router)
    app.include_router(content_requests.router)
    app.include_router(admin.router)
    for channel in CHANNELS:
        for router in channel.routers:
            app.include_router(router)
    if settings.dev_login_enabled:
        app.include_router(dev.router)

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    app.mount("/client", StaticFiles(directory=WEB_DIR.parent / "clients/js/src"), name="client")
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")

    @app.get("/", include_in_schema=False)
    @app.get(VIDEO_PATH, include_in_schema=False)
    @app.get(REQUEST_PATH, include_in_schema=False)
    @app.get(PREFERENCES_PATH, include_in_schema=False)
    async def index() -> FileResponse:
        # The app routes a subject's page (live/subjects.py) by its path itself (router.js).
        return FileResponse(WEB_DIR / "index.html")

    @app.get("/admin", include_in_schema=False)
    async def admin_page() -> FileResponse:
        # The page is static; its data needs an admin token (/api/v1/admin answers 401/403).
        return FileResponse(WEB_DIR / "admin.html")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            document["paths"][stream.STREAM_PATH] = stream.OPENAPI_PATH
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
