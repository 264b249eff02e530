"""Fixtures of the push channel tests: a dispatcher's settings and pool, the stand-in push
service, a server with Web Push on and a client of it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from db.pool import create_pool
from service.settings import Settings
from tests.support.push_api import PRIVATE, PUBLIC
from tests.support.push_standin import StandIn, push_service
from tests.support.server import RunningServer, settings_for


@pytest.fixture(scope="module")
def push_settings(database_url: str) -> Settings:
    return settings_for(
        database_url,
        vapid_public_key=PUBLIC,
        vapid_private_key=PRIVATE,
        vapid_subject="mailto:ops@vividly.example",
        push_allow_loopback=True,
        push_stream_grace_seconds=0.3,
        push_delay_seconds=1.5,
        push_poll_seconds=0.05,
        push_retry_seconds=0.1,
        push_ttl_seconds=600,
        push_urgency="high",
        public_url="https://notify.example",
    )


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    async with push_service() as running:
        yield running


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(
        database_url,
        vapid_public_key=PUBLIC,
        vapid_private_key=PRIVATE,
        vapid_subject="https://vividly.example/contact",
        public_url="https://notify.example",
        push_allow_loopback=True,
        push_max_subscriptions_per_user=3,
    )


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    user = uuid.uuid4()
    headers = {"Authorization": f"Bearer {server.token(user)}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as created:
        created.user = user  # type: ignore[attr-defined]
        yield created


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(database_url, min_size=1, max_size=4)
    yield created
    await created.close()
