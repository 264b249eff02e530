"""uvicorn, taught to end every SSE stream as soon as shutdown starts.

uvicorn waits for open requests before the lifespan's shutdown runs, and an SSE request never
finishes by itself; without this hook a SIGTERM would hang for the whole graceful timeout.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from fastapi import FastAPI

from .limits import limited_protocol
from .settings import HttpSettings


def server_config(app: FastAPI, settings: HttpSettings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for `app`: the settings' limits, plus `options` (host, port...)."""
    http = limited_protocol(
        settings.max_header_bytes, settings.head_timeout_seconds, settings.max_body_bytes
    )
    # ASGI 3 said outright: the app's `__call__` is a plain method returning an awaitable
    # (service/app.py), which uvicorn's detection would take for ASGI 2.
    return uvicorn.Config(app, http=http, interface="asgi3", **options)


class Server(uvicorn.Server):
    """A uvicorn server that closes the app's streams first when it shuts down."""

    def __init__(self, app: FastAPI, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        hub = getattr(self._app.state, "hub", None)
        if hub is not None:
            hub.close_all("shutdown")
        await super().shutdown(sockets)
