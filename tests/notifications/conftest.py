"""Fixtures of the notification API's tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.support.api_client import Client
from tests.support.server import RunningServer


@pytest.fixture
async def alice(server: RunningServer) -> AsyncIterator[Client]:
    client = Client(server, uuid.uuid4())
    yield client
    await client.http.aclose()
