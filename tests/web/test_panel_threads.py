"""The panel's inbox features at 1366x800 (issue 22): one thread per content request with its
history, the filter by type, and Snooze (the notification leaves, and comes back as new at
its time on every device)."""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import Browser, BrowserContext, ViewportSize, expect

from tests.support.browser import LIVE_MS, UNREAD, Tabs, api_get, notification_ids, open_app
from tests.support.server import RunningServer, complete
from tests.support.waiting import until

DESKTOP: ViewportSize = {"width": 1366, "height": 800}


async def retried(conn: asyncpg.Connection, user: uuid.UUID) -> uuid.UUID:
    """A request that failed, was tried again and made its video: two notifications."""
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', 'Why is the sky blue?', 'Why is the sky blue?',"
        " 'The narrator lost their voice.') RETURNING id",
        user,
    )
    await conn.execute("UPDATE content_requests SET status = 'pending' WHERE id = $1", request_id)
    await conn.execute(
        "UPDATE content_requests SET status = 'completed', video_url = '/media/v.webm'"
        " WHERE id = $1",
        request_id,
    )
    return request_id


async def ids_where(
    conn: asyncpg.Connection, user: uuid.UUID, condition: str, expected: list[int]
) -> bool:
    rows = await conn.fetch(
        f"SELECT id FROM notifications WHERE user_id = $1 AND {condition} ORDER BY id", user
    )
    return [row["id"] for row in rows] == expected


async def test_a_request_is_one_thread_with_its_history_and_actions_cover_it_all(
    desktop: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await complete(conn, user, title="Volcanoes")
    await retried(conn, user)
    other, failure, video = await notification_ids(conn, user)
    tab = await tabs.open(desktop, user)
    page = tab.page
    await tab.open_panel()
    await expect(page.locator("#panel-list li")).to_have_count(2)  # not three
    thread = tab.notice(video)  # the newest state on top
    await expect(thread.locator(".notice-main")).to_contain_text("Why is the sky blue?")
    await expect(thread.locator(".notice-main")).to_contain_text("Your video is ready")
    history = thread.locator(".notice-history")
    await expect(history).to_be_hidden()
    toggle = thread.get_by_role("button", name="History (1)")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(history).to_be_visible()
    await expect(history.locator(f'[data-id="{failure}"]')).to_contain_text(
        "The narrator lost their voice."
    )

    await thread.get_by_role("button", name="Mark read").click()
    await expect(thread).not_to_have_class(UNREAD)
    await expect(tab.badge).to_have_text("1")
    await until(lambda: ids_where(conn, user, "read_at IS NULL", [other]), "the thread read")

    await thread.get_by_role("button", name="Archive", exact=True).click()
    await expect(thread).to_have_count(0)
    await until(
        lambda: ids_where(conn, user, "dismissed_at IS NOT NULL", [failure, video]),
        "the thread archived",
    )
    await page.locator("#snackbar").get_by_role("button", name="Undo").click()
    await expect(thread).to_be_visible()
    await expect(thread.get_by_role("button", name="History (1)")).to_be_visible()


async def test_the_panel_filters_by_type(
    desktop: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await complete(conn, user, title="Volcanoes")
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', 'Tides', 'Tides', 'No narrator.')",
        user,
    )
    video, failure = await notification_ids(conn, user)
    tab = await tabs.open(desktop, user)
    page = tab.page
    registry = await api_get(desktop, "/api/v1/notifications/types")
    labels = {item["name"]: item["label"] for item in registry["types"]}
    await tab.open_panel()
    await expect(page.locator("#panel-list li")).to_have_count(2)
    type_filter = page.get_by_label("Type", exact=True)
    async with page.expect_request("**/history?*type=video_failed*"):
        await type_filter.select_option(label=labels["video_failed"])
    await expect(tab.notice(video)).to_have_count(0)
    await expect(tab.notice(failure)).to_be_visible()
    await complete(conn, user, title="Gravity")  # live, of another type: not in this view
    arrived = page.locator(".toast", has_text="Gravity")
    await expect(arrived).to_have_count(1, timeout=LIVE_MS)  # it arrived (hidden: panel open)
    await expect(arrived).to_be_hidden()
    await expect(page.locator("#panel-list li")).to_have_count(1)
    await type_filter.select_option(label="All types")
    await expect(page.locator("#panel-list li")).to_have_count(3)


async def test_snooze_leaves_the_inbox_and_comes_back_as_new_on_every_device(
    desktop: BrowserContext,
    browser: Browser,
    server: RunningServer,
    conn: asyncpg.Connection,
    tabs: Tabs,
) -> None:
    laptop = await browser.new_context(base_url=server.base_url, viewport=DESKTOP)
    try:
        await snooze_and_wake(desktop, laptop, conn, tabs)
    finally:
        await laptop.close()


async def snooze_and_wake(
    desktop: BrowserContext, laptop: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await complete(conn, user, title="Volcanoes")
    (video,) = await notification_ids(conn, user)
    await conn.execute("UPDATE notifications SET read_at = now() WHERE id = $1", video)
    tab = await tabs.open(desktop, user)
    other = await open_app(laptop, user)  # another device of the student
    tabs.append(other)
    page = tab.page
    await tab.open_panel()
    await other.open_panel()
    snooze = tab.notice(video).get_by_role("button", name="Snooze")
    await snooze.click()
    await expect(snooze).to_have_attribute("aria-expanded", "true")
    items = page.get_by_role("menuitem")
    await expect(items.first).to_be_focused()
    await expect(items.first).to_have_text("1 hour")
    await expect(items.last).to_contain_text("Tomorrow morning")
    async with page.expect_request(f"**/notifications/{video}/snooze") as sent:
        await items.first.click()
    body = (await sent.value).post_data_json
    assert body is not None
    until = body["until"]
    await expect(tab.notice(video)).to_have_count(0)
    await expect(other.notice(video)).to_have_count(0, timeout=LIVE_MS)
    await expect(page.locator("#snackbar")).to_contain_text("Snoozed until")
    late = await conn.fetchval(
        "SELECT snoozed_until - now() FROM notifications WHERE id = $1", video
    )
    assert 3500 < late.total_seconds() <= 3600, (late, until)

    await conn.execute("UPDATE notifications SET snoozed_until = now() WHERE id = $1", video)
    for device in (tab, other):  # back as a new, unread notification
        back = device.page.locator("#panel-list li.unread", has_text="Volcanoes")
        await expect(back).to_be_visible(timeout=LIVE_MS + 2000)
        await expect(device.badge).to_have_text("1")
