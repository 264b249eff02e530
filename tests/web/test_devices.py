"""Issue 22, defect 4, at desktop 1366x800: a student's browsers (separate browser contexts, so
separate devices) all get notifications live with default settings; past the server's limit the
newest device wins, the oldest is paused calmly (no reconnect loop) until the student resumes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
from playwright.async_api import Browser, BrowserContext, expect

from tests.support.browser import LIVE_MS, TIMEOUT_MS, Tab, Tabs
from tests.support.server import RunningServer, complete, running_server, settings_for

DESKTOP = {"width": 1366, "height": 800}


async def device(
    stack: contextlib.AsyncExitStack, browser: Browser, base_url: str
) -> BrowserContext:
    context = await browser.new_context(base_url=base_url, viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    stack.push_async_callback(context.close)
    return context


async def test_five_browsers_of_one_student_all_get_a_notification_live(
    browser: Browser, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    assert server.settings == settings_for(server.settings.database_url or "")  # defaults
    user = uuid.uuid4()
    async with contextlib.AsyncExitStack() as stack:
        opened = [
            await tabs.open(await device(stack, browser, server.base_url), user) for _ in range(5)
        ]
        assert server.hub.stream_count(user) == 5
        await complete(conn, user, title="For every device")
        for tab in opened:
            await expect(tab.page.locator(".toast", has_text="For every device")).to_be_visible(
                timeout=LIVE_MS
            )
            await expect(tab.badge).to_have_text("1")
            await expect(tab.page.locator("#connection")).to_have_attribute(
                "data-state", "connected"
            )


async def _state(tab: Tab) -> str | None:
    return await tab.page.locator("#connection").get_attribute("data-state")


async def test_the_newest_device_wins_and_the_oldest_waits_for_the_student(
    browser: Browser, database_url: str, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    settings = settings_for(database_url, max_streams_per_user=2)
    user = uuid.uuid4()
    async with (
        running_server(settings) as server,
        contextlib.AsyncExitStack() as stack,
    ):
        laptop = await tabs.open(await device(stack, browser, server.base_url), user)
        tablet = await tabs.open(await device(stack, browser, server.base_url), user)
        streams: list[str] = []
        laptop.page.on("request", lambda request: streams.append(request.url))
        phone = await tabs.open(await device(stack, browser, server.base_url), user)

        await expect(laptop.page.locator("#connection")).to_have_attribute("data-state", "paused")
        await expect(laptop.page.locator("#connection")).to_contain_text(
            "Paused here: open on too many devices"
        )
        resume = laptop.page.get_by_role("button", name="Resume")
        await expect(resume).to_be_visible()
        # Calm: it does not come back by itself and push another device out.
        await asyncio.sleep(3)
        assert [url for url in streams if "/stream" in url] == []
        assert [await _state(tab) for tab in (laptop, tablet, phone)] == [
            "paused",
            "connected",
            "connected",
        ]
        await complete(conn, user, title="On the newer two")
        for tab in (tablet, phone):
            await expect(tab.page.locator(".toast", has_text="On the newer two")).to_be_visible(
                timeout=LIVE_MS
            )

        # The student picks the laptop up again: it takes the place of the oldest, the tablet.
        await resume.click()
        await expect(laptop.page.locator("#connection")).to_have_attribute(
            "data-state", "connected"
        )
        await expect(tablet.page.locator("#connection")).to_have_attribute("data-state", "paused")
        await expect(resume).to_be_hidden()
        # What arrived while it was paused is there (replayed from its cursor).
        await expect(laptop.badge).to_have_text("1")
        assert server.hub.stream_count(user) == 2
