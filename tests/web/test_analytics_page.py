"""The page reports what was on screen and what was opened; the admin page shows the numbers.

Real Chromium, a real server and Postgres.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, expect

from service.http.auth import mint_token
from service.settings import Settings
from tests.support.browser import LIVE_MS, Tabs, new_tab, notification_ids
from tests.support.server import RunningServer, complete, running_server, settings_for
from tests.support.waiting import until

REPORTED_WITHIN = 5.0  # the client waits 0.5 s of quiet, then one request


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    # The admin page shows this module's few notifications (no group is too small to show).
    return settings_for(database_url, analytics_min_group=1)


async def marks(conn: asyncpg.Connection, id_: int) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT seen_at, opened_at FROM notifications WHERE id = $1", id_
    )
    return row


async def test_the_open_panel_reports_seen_and_a_click_reports_opened(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await complete(conn, user, title="Tides")
    await complete(conn, user, title="Waves")
    older, newer = sorted(await notification_ids(conn, user))
    tab = await tabs.open(context, user)
    await expect(tab.badge).to_have_text("2")
    await asyncio.sleep(1.0)  # loaded but not on screen (the panel is closed): not seen
    assert (await marks(conn, older))["seen_at"] is None
    assert (await marks(conn, newer))["seen_at"] is None

    await tab.open_panel()

    async def both_seen() -> bool:
        rows = [await marks(conn, id_) for id_ in (older, newer)]
        return all(row["seen_at"] is not None for row in rows)

    await until(both_seen, "the open panel's notifications are seen", timeout=REPORTED_WITHIN)
    assert (await marks(conn, newer))["opened_at"] is None
    await tab.notice(newer).locator(".notice-main").click()  # plays the video
    await until(
        lambda: _opened(conn, newer), "the click is reported opened", timeout=REPORTED_WITHIN
    )
    assert (await marks(conn, older))["opened_at"] is None

    # A live toast is on screen too; its "Watch now" opens it.
    await tab.page.keyboard.press("Escape")
    await complete(conn, user, title="Currents")
    live = max(await notification_ids(conn, user))
    toast = tab.page.locator(f'.toast[data-id="{live}"]')
    await expect(toast).to_be_visible(timeout=LIVE_MS)
    await until(lambda: _seen(conn, live), "the toast is seen", timeout=REPORTED_WITHIN)
    await toast.get_by_role("button", name="Watch now").click()
    await until(lambda: _opened(conn, live), "Watch now is opened", timeout=REPORTED_WITHIN)


async def _seen(conn: asyncpg.Connection, id_: int) -> bool:
    return (await marks(conn, id_))["seen_at"] is not None


async def _opened(conn: asyncpg.Connection, id_: int) -> bool:
    return (await marks(conn, id_))["opened_at"] is not None


async def test_only_items_in_view_are_seen(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    for index in range(25):
        await complete(conn, user, title=f"Video {index}")
    tab = await tabs.open(context, user)
    await tab.open_panel()
    items = tab.page.locator("#panel-list li.notice")
    await expect(items.first).to_be_visible()
    ids = await items.evaluate_all("nodes => nodes.map((node) => node.dataset.id)")
    loaded = [int(value) for value in ids]
    newest, lowest = loaded[0], loaded[-1]
    await until(lambda: _seen(conn, newest), "the top item is seen", timeout=REPORTED_WITHIN)
    await asyncio.sleep(1.5)  # more than the client's longest wait
    below = [id_ for id_ in loaded if not await _seen(conn, id_)]
    assert lowest in below  # loaded, but below the fold: not seen
    assert len(below) >= 5, (loaded, below)
    await tab.notice(lowest).scroll_into_view_if_needed()
    await until(lambda: _seen(conn, lowest), "scrolled into view: seen", timeout=REPORTED_WITHIN)


async def test_a_hidden_page_reports_nothing_seen(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await context.add_init_script(
        "Object.defineProperty(Document.prototype, 'visibilityState',"
        " {configurable: true, get: () => 'hidden'});"
    )
    tab = await tabs.open(context, user)
    await complete(conn, user)
    [id_] = await notification_ids(conn, user)
    await expect(tab.badge).to_have_text("1", timeout=LIVE_MS)
    await tab.open_panel()
    await asyncio.sleep(1.5)  # three quiet periods
    assert (await marks(conn, id_))["seen_at"] is None


async def test_the_admin_page_draws_the_numbers_for_an_admin_only(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection
) -> None:
    await complete(conn, uuid.uuid4(), title="Something")  # at least one in the last 7 days
    tab = await new_tab(context)
    console: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            console.append(message.text)

    tab.page.on("console", on_console)
    student = await context.request.post("/api/v1/dev/login", data={"user_id": str(uuid.uuid4())})
    assert student.ok
    await tab.page.goto("/admin")
    await expect(tab.page.locator("#message")).to_have_text("This account is not an admin.")
    await expect(tab.page.locator("#results")).to_be_hidden()

    await tab.page.click("#dev-login")  # the loopback development login, as an admin
    results = tab.page.locator("#results")
    await expect(results).to_be_visible()
    total = tab.page.locator('#table tr[data-type="video_complete"][data-channel="all"]')
    await expect(total).to_have_count(1)
    created = int(await total.locator("td").nth(2).inner_text())
    expected = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE type = 'video_complete'"
        " AND created_at > now() - interval '7 days'"
    )
    assert created == expected
    await expect(tab.page.locator('#chart text[data-type="video_complete"]')).to_have_count(1)
    await expect(tab.page.locator('#chart rect[data-kind="delivery"]').first).to_be_attached()
    assert tab.errors == []
    assert not [text for text in console if "Content Security Policy" in text], console


async def test_a_pasted_admin_token_signs_in_and_dev_login_shows_only_where_served(
    browser: Browser, context: BrowserContext, server: RunningServer, database_url: str
) -> None:
    # This module's server serves the development login (loopback): the button is there.
    tab = await new_tab(context)
    await tab.page.goto("/admin")
    await expect(tab.page.locator("#message")).to_have_text(
        "Sign in with a token that holds the admin role."
    )
    await expect(tab.page.locator("#dev-login")).to_be_visible()

    # One without it: only the token field, which sets the cookie from a pasted token.
    settings = settings_for(database_url, dev_login=False, analytics_min_group=1)
    async with running_server(settings) as plain:
        page = await (await browser.new_context(base_url=plain.base_url)).new_page()
        await page.goto("/admin")
        await expect(page.get_by_label("Admin token")).to_be_visible()
        await expect(page.locator("#dev-login")).to_be_hidden()
        assert (await page.request.post("/api/v1/dev/login", data={})).status == 404

        student = mint_token(uuid.uuid4(), settings, ttl=timedelta(minutes=5))
        await page.get_by_label("Admin token").fill("not.a.token")
        await page.get_by_role("button", name="Use token").click()
        await expect(page.locator("#token-error")).to_have_text(
            "That token is not valid (or has expired)."
        )
        await page.get_by_label("Admin token").fill(student)
        await page.get_by_role("button", name="Use token").click()
        await expect(page.locator("#message")).to_have_text("This account is not an admin.")

        admin = mint_token(
            uuid.uuid4(), settings, ttl=timedelta(minutes=5), roles=[settings.admin_role]
        )
        await page.get_by_label("Admin token").fill(admin)
        await page.get_by_role("button", name="Use token").click()
        await expect(page.locator("#results")).to_be_visible()
        await expect(page.locator("#signin")).to_be_hidden()
        await expect(page.get_by_label("Admin token")).to_have_value("")
        await page.context.close()
