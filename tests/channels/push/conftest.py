"""Fixtures of the push channel tests: the settings of a dispatcher, the stand-in service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from service.channels.push import keys
from service.settings import Settings
from tests.support.push_standin import StandIn, push_service
from tests.support.server import settings_for

PUBLIC, PRIVATE = keys.new_pair()


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
