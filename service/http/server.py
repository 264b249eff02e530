"""uvicorn, taught to drain the SSE streams before it stops listening.

uvicorn waits for open requests before the lifespan's shutdown runs, and an SSE request never
finishes by itself; without this hook a SIGTERM would hang for the whole graceful timeout. On
SIGTERM the app's `Shutdown` (`shutdown.py`) runs first, while uvicorn still accepts
connections: `/readyz` answers 503, then the streams are drained spread over time (new ones
get `event: unavailable`); only then does uvicorn close its sockets and wait, up to
SHUTDOWN_REQUESTS_SECONDS, for the other requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI

from .limits import limited_protocol
from .settings import HttpSettings
from .stream_protocol import stream_protocol

FORCE_EXIT_POLL = 0.1  # seconds


def server_config(app: FastAPI, settings: HttpSettings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for `app`: the settings' limits, plus `options` (host, port...)."""
    http = stream_protocol(
        limited_protocol(
            settings.max_header_bytes, settings.head_timeout_seconds, settings.max_body_bytes
        ),
        settings.cors_origins,
    )
    # ASGI 3 said outright: the app's `__call__` is a plain method returning an awaitable
    # (service/app.py), which uvicorn's detection would take for ASGI 2.
    options.setdefault("timeout_graceful_shutdown", settings.shutdown_requests_seconds)
    return uvicorn.Config(app, http=http, interface="asgi3", **options)


class Server(uvicorn.Server):
    """A uvicorn server that runs the app's `Shutdown` first when it shuts down."""

    def __init__(self, app: FastAPI, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        shutdown = getattr(self._app.state, "shutdown", None)
        if shutdown is not None:
            # A second Ctrl+C (uvicorn's force_exit) cuts the phases short.
            phases = asyncio.ensure_future(shutdown.run())
            while not phases.done():
                await asyncio.wait({phases}, timeout=FORCE_EXIT_POLL)
                if self.force_exit:
                    phases.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await phases
        hub = getattr(self._app.state, "hub", None)
        if hub is not None:
            hub.close_all("shutdown")
        await super().shutdown(sockets)
