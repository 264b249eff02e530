"""Fixtures for the browser tests: one server per module, one headless Debian chromium per session.

Chromium comes from apt (`/usr/bin/chromium`), never from playwright's downloader; the
pytest-playwright plugin is not used, so the browser is launched here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, ViewportSize, async_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, Tabs
from tests.support.server import RunningServer

PHONE_844: ViewportSize = {"width": 390, "height": 844}
DESKTOP_1366: ViewportSize = {"width": 1366, "height": 800}


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser, server: RunningServer) -> AsyncIterator[BrowserContext]:
    """A fresh profile (own cookies) per test, with relative URLs against the test server."""
    created = await browser.new_context(base_url=server.base_url)
    created.set_default_timeout(TIMEOUT_MS)
    yield created
    await created.close()


@pytest.fixture
async def tabs() -> AsyncIterator[Tabs]:
    """Tabs a test opened: after it, none may have thrown or shown an alert."""
    opened = Tabs()
    yield opened
    for tab in opened:
        assert tab.errors == [], tab.errors
        assert tab.dialogs == [], tab.dialogs


@pytest.fixture
async def phone(browser: Browser, server: RunningServer) -> AsyncIterator[BrowserContext]:
    """A fresh profile on a phone: 390x844, mobile, touch (issue 22's phone)."""
    created = await browser.new_context(
        base_url=server.base_url, viewport=PHONE_844, is_mobile=True, has_touch=True
    )
    created.set_default_timeout(TIMEOUT_MS)
    yield created
    await created.close()


@pytest.fixture
async def desktop(browser: Browser, server: RunningServer) -> AsyncIterator[BrowserContext]:
    """A fresh profile on a laptop: 1366x800 (issue 22's desktop)."""
    created = await browser.new_context(base_url=server.base_url, viewport=DESKTOP_1366)
    created.set_default_timeout(TIMEOUT_MS)
    yield created
    await created.close()
