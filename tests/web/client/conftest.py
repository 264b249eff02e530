"""Fixtures of the client package's browser tests: pages served for the context, tabs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import BrowserContext

from tests.support.client_pages import (
    Tabs,
    serve_pages,
)


@pytest.fixture
async def pages(context: BrowserContext) -> BrowserContext:
    await serve_pages(context)
    return context


@pytest.fixture
async def tabs() -> AsyncIterator[Tabs]:
    opened = Tabs()
    yield opened
    for tab in opened:
        assert tab.errors == [], tab.errors
        assert tab.dialogs == [], tab.dialogs
