"""An unhandled error is a JSON 500 like every other answer, logged once with its traceback."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.headers import security_headers
from service.server import Server, server_config
from service.settings import Settings

from .live import serving, settings_for

ORIGIN = "https://app.example"


class Broken(Exception):
    """Raised by the test route: what no handler knows."""


def app_with_a_broken_route(settings: Settings) -> FastAPI:
    app = create_app(settings)

    async def broken() -> None:
        raise Broken("the disk is on fire")

    app.add_api_route("/api/v1/broken", broken)
    return app


async def test_an_unhandled_error_is_a_json_500_with_headers_and_one_log_line(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(database_url, cors_origins=[ORIGIN])
    app = app_with_a_broken_route(settings)
    config = server_config(app, settings, host="127.0.0.1", port=0, lifespan="on")
    caplog.set_level(logging.INFO)
    async with serving(Server(app, config)) as port, httpx.AsyncClient() as client:
        response = await client.get(
            f"http://127.0.0.1:{port}/api/v1/broken",
            headers={"X-Request-ID": "req-42", "Origin": ORIGIN},
        )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "internal server error", "request_id": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
    for name, value in security_headers("/api/v1/broken").items():
        assert response.headers[name] == value
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "fire" not in response.text  # the error's text stays in the log
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    [line] = errors
    assert line.exc_info is not None
    assert line.exc_info[0] is Broken
