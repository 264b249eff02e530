"""Fixtures of the tests in tests/app: a server with small limits (open requests, streams,
head timeout) and a metrics token, and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from service.settings import Settings
from tests.support.hardening import (
    HEAD_TIMEOUT,
    MAX_STREAMS,
    METRICS_TOKEN,
    OPEN_CAP,
)
from tests.support.server import (
    RunningServer,
    settings_for,
)


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(
        database_url,
        max_open_requests_per_student=OPEN_CAP,
        max_streams=MAX_STREAMS,
        metrics_token=METRICS_TOKEN,
        head_timeout_seconds=HEAD_TIMEOUT,
    )


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        yield http
