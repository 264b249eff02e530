"""Issue 22, defect 3, at desktop 1366x800: the page is live again within 5 s of a restarted
server being ready, however long it was away; "Retry now" tries at once; asking while the
server cannot be reached says so plainly and keeps the question.

The outage is long in the page's own time: its clock (Playwright's) is moved on while the
server is down, so the backoff grows as over a minute away, without the test waiting a minute.
The server is really stopped and started again, on the same port and database.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from playwright.async_api import Browser, BrowserContext, Route, expect

from service.app import create_app
from service.http.server import Server, server_config
from service.settings import Settings
from tests.support.browser import LIVE_MS, TIMEOUT_MS, Tabs
from tests.support.page import overlap
from tests.support.server import RunningServer, complete, serving, settings_for

DESKTOP = {"width": 1366, "height": 800}
STREAM = "**/api/v1/notifications/stream*"


@asynccontextmanager
async def server_on(settings: Settings, port: int) -> AsyncIterator[int]:
    """The app served by uvicorn on `port` (0: any free one) until the block ends."""
    app = create_app(settings)
    config = server_config(
        app, settings, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    async with serving(Server(app, config), stop_timeout=15) as bound:
        await asyncio.wait_for(app.state.listener.connected.wait(), 5)
        yield bound


@asynccontextmanager
async def desktop(browser: Browser, base_url: str) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(base_url=base_url, viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        await context.close()


async def test_live_again_within_5_s_of_a_restarted_server_being_ready(
    browser: Browser, database_url: str, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    settings = settings_for(database_url)
    user = uuid.uuid4()
    failed: list[str] = []
    first = server_on(settings, 0)
    port = await first.__aenter__()
    stopped = False
    try:
        async with desktop(browser, f"http://127.0.0.1:{port}") as context:
            await context.clock.install()  # runs on by itself; moved on while the server is away
            tab = await tabs.open(context, user)
            page = tab.page
            page.on("requestfailed", lambda request: failed.append(request.url))
            stopped = True  # the server goes: its streams end
            await first.__aexit__(None, None, None)
            # The page's stream fails again and again while its clock runs on.
            await expect(page.locator("#connection")).to_have_attribute(
                "data-state", "reconnecting"
            )
            for _ in range(400):
                if sum("/stream" in url for url in failed) >= 8:
                    break  # four attempts at least: the old backoff waits 8-16 s for the next
                await page.clock.fast_forward(1000)
                await asyncio.sleep(0.02)
            assert sum("/stream" in url for url in failed) >= 8, failed
            async with server_on(settings, port):
                ready = time.monotonic()
                await expect(page.locator("#connection")).to_have_attribute(
                    "data-state", "connected", timeout=5000
                )
                await complete(conn, user, title="After the restart")
                await expect(page.locator(".toast", has_text="After the restart")).to_be_visible(
                    timeout=5000
                )
                assert time.monotonic() - ready < 5
            tab.errors.clear()  # what the outage's failed requests threw
    finally:
        if not stopped:
            await first.__aexit__(None, None, None)


async def test_retry_now_tries_at_once(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    await context.clock.install()
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    retry = page.get_by_role("button", name="Retry now")
    await expect(retry).to_be_hidden()  # while live

    async def refuse(route: Route) -> None:
        await route.abort("connectionrefused")

    await context.route(STREAM, refuse)
    assert server.hub.close_user(user, "max_age") == 1
    await expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    await expect(retry).to_be_visible()
    # The page's time stands still from here: no attempt comes by itself (one on its way is
    # refused while the route stays a little longer).
    await page.clock.pause_at(await page.evaluate("Date.now() + 50"))
    await asyncio.sleep(0.5)
    await context.unroute(STREAM, refuse)
    await asyncio.sleep(0.5)
    assert await page.locator("#connection").get_attribute("data-state") == "reconnecting"
    await retry.click()
    await expect(page.locator("#connection")).to_have_attribute(
        "data-state", "connected", timeout=LIVE_MS
    )
    await expect(retry).to_be_hidden()
    tab.errors.clear()


async def test_asking_while_the_server_is_unreachable_says_so_and_keeps_the_question(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    page = (await tabs.open(context, uuid.uuid4())).page
    question = "How do volcanoes form?"

    async def refuse(route: Route) -> None:
        await route.abort("connectionrefused")

    await context.route("**/api/v1/content-requests", refuse)
    await page.fill("#ask-question", question)
    await page.click("#ask-form button[type=submit]")
    await expect(page.locator("#ask-error")).to_have_text(
        "Could not reach the server. Your question is kept; try again in a moment."
    )
    await expect(page.locator("#ask-question")).to_have_value(question)
    await context.unroute("**/api/v1/content-requests", refuse)
    await page.click("#ask-form button[type=submit]")
    await expect(page.locator("#requests-list li", has_text=question)).to_be_visible()
    await expect(page.locator("#ask-error")).to_have_text("")
    await expect(page.locator("#ask-question")).to_have_value("")


async def test_on_a_phone_the_retry_button_leaves_the_status_readable(
    phone: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    """At 390x844 (touch) the button beside "Reconnecting…" covers none of it (a reviewer saw
    "Reconnectin" cut off by ~11 px); it stays a 44 px target named "Retry now"."""
    user = uuid.uuid4()
    tab = await tabs.open(phone, user)
    page = tab.page

    async def refuse(route: Route) -> None:
        await route.abort("connectionrefused")

    await phone.route(STREAM, refuse)
    assert server.hub.close_user(user, "max_age") == 1
    await expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    retry = page.get_by_role("button", name="Retry now")
    await expect(retry).to_be_visible()
    text = page.locator("#connection-text")
    await expect(text).to_have_text("Reconnecting…")
    status = await text.bounding_box()
    button = await retry.bounding_box()
    assert status is not None
    assert button is not None
    assert not overlap(status, button), (status, button)
    clipped = await text.evaluate(
        "t => { const box = t.closest('#connection');"
        " return t.scrollWidth > t.clientWidth || box.scrollWidth > box.clientWidth; }"
    )
    assert not clipped
    assert min(button["width"], button["height"]) >= 44, button
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await phone.unroute(STREAM, refuse)
    tab.errors.clear()
