"""The client package in Chromium: sessions that end, getToken, REST calls and their errors,
and the custom element."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import asyncpg
from playwright.async_api import Browser, BrowserContext, expect

from tests.support.browser import TIMEOUT_MS
from tests.support.client_pages import (
    LIVE_MS,
    REST_SCRIPT,
    Tabs,
    api_get,
    login,
    notification_ids,
    serve_pages,
    stream_requests,
)
from tests.support.server import RunningServer, complete


async def test_without_a_session_the_status_is_auth_expired_and_nothing_retries(
    pages: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    requests = stream_requests(pages)
    tab = await tabs.open(pages, "/client-test.html")
    await tab.wait_for("window.client && client.status === 'auth_expired'")
    assert await tab.js("record.events.map(([name]) => name)") == ["auth_expired"]
    asked = len(requests)  # the EventSource's and the probe that learnt why
    assert asked == 2, requests
    await asyncio.sleep(1.5)
    assert len(requests) == asked


async def test_an_expired_session_stops_every_tab_until_a_new_one(
    pages: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    token = server.token(user, ttl=timedelta(seconds=3))
    await pages.add_cookies([{"name": "access_token", "value": token, "url": server.base_url}])
    leader = await tabs.client(pages)
    follower = await tabs.client(pages)
    for tab in (leader, follower):  # the stream ends with `event: auth_expired`
        await tab.wait_for("client.status === 'auth_expired'", timeout=6000)
        assert await tab.js("record.events.at(-1)") == ["auth_expired", None]
    assert server.hub.stream_count(user) == 0

    await login(pages, user)  # signed in again: a tab that opens brings the stream back
    again = await tabs.client(pages)
    for tab in (leader, follower):
        await tab.wait_for("client.status === 'connected'")
    assert not await again.js("client.isLeader")
    assert server.hub.stream_count(user) == 1


async def test_get_token_sets_the_session_and_bears_rest_calls(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    token = server.token(user)
    authorized: list[str | None] = []
    pages.on(
        "request",
        lambda r: (
            authorized.append(r.headers.get("authorization")) if "/history" in r.url else None
        ),
    )
    tab = await tabs.client(pages, f"?token={token}")  # no cookie yet: getToken brings one
    cookies = await pages.cookies(server.base_url)
    assert [c["value"] for c in cookies if c["name"] == "access_token"] == [token]
    await complete(conn, user)
    (notification_id,) = await notification_ids(conn, user)
    await tab.wait_for(f"record.notifications.includes({notification_id})", timeout=LIVE_MS)

    page = await tab.js("client.history({ limit: 5 })")
    assert [item["id"] for item in page["items"]] == [notification_id]
    assert authorized == [f"Bearer {token}"]
    await tab.js("(id) => client.markRead(id)", notification_id)
    assert (await tab.js("client.unreadCount()"))["unread_count"] == 0
    types = await tab.js("client.types().catch((e) => `${e.status} ${e.message}`)")
    assert isinstance(types, list), types
    assert all(set(t) >= {"name", "label", "description"} for t in types), types
    assert {"video_complete", "video_failed", "clarification_needed"} <= {t["name"] for t in types}


async def test_rest_calls_and_their_errors(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    for title in ("One", "Two", "Three"):
        await complete(conn, user, title=title)
    one, two, three = await notification_ids(conn, user)
    tab = await tabs.client(pages)
    out = await tab.js(REST_SCRIPT)
    assert out["missing"] == [
        True,
        "ApiError",
        404,
        "notification not found",
        "notification not found",
    ]
    assert out["badId"][:3] == [True, "ApiError", 0]
    assert out["badQuery"][:3] == [True, "ApiError", 422]
    assert isinstance(out["badQuery"][3], list)
    assert "limit" in str(out["badQuery"][3])
    assert out["prefs"]["in_app"]["video_failed"] is False
    assert out["prefsAgain"] == out["prefs"]
    assert (out["first"], out["next"], out["unreadOnly"]) == (
        [three, two],
        [one],
        [three, two, one],
    )
    assert (out["read"], out["unread"]) == (True, None)
    assert out["readAll"] == {"updated": 2, "up_to_id": two, "unread_count": 1}
    assert (out["archived"], out["withArchived"]) == (True, 3)
    assert out["clearAll"] == {"updated": 2, "up_to_id": None, "unread_count": 0}
    assert out["left"] == 0


async def test_the_element_lists_pages_and_changes_the_servers_state(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    for index in range(23):
        await complete(conn, user, title=f"Lesson {index}")
    ids = await notification_ids(conn, user)
    # The first page read; the three oldest, on the page not loaded, still unread.
    await conn.execute("UPDATE notifications SET read_at = now() WHERE id = ANY($1)", ids[3:])
    tab = await tabs.element(pages)
    await expect(tab.badge).to_have_text("3")
    await expect(tab.page.locator("notification-center .bell")).to_have_attribute(
        "aria-label", "Notifications, 3 unread"
    )
    await tab.open_panel()
    await expect(tab.items).to_have_count(20)
    mark_all = tab.page.get_by_role("button", name="Mark all read")
    await expect(mark_all).to_be_enabled()
    await tab.page.locator("notification-center .more").click()
    await expect(tab.items).to_have_count(23)
    await expect(tab.page.locator("notification-center .more")).to_be_hidden()
    shown = await tab.items.evaluate_all("rows => rows.map((r) => Number(r.dataset.id))")
    assert shown == ids[::-1]
    await expect(tab.item(ids[-1]).locator(".title")).to_have_text("Your video is ready")
    await expect(tab.item(ids[-1]).locator(".body")).to_have_text("Lesson 22")

    async with tab.page.expect_response(f"**/notifications/{ids[-1]}"):
        await tab.item(ids[-1]).get_by_role("button", name="Archive").click()
    await expect(tab.items).to_have_count(22)
    history = await api_get(pages, "/api/v1/notifications/history?limit=100")
    assert ids[-1] not in [item["id"] for item in history["items"]]

    async with tab.page.expect_response("**/read-all") as answered:
        await mark_all.click()
    assert (await answered.value).request.post_data_json == {"up_to_id": ids[-2]}
    await expect(tab.badge).to_be_hidden()
    await expect(mark_all).to_be_disabled()
    assert (await api_get(pages, "/api/v1/notifications/unread-count"))["unread_count"] == 0

    await complete(conn, user, title="Late")
    late = (await notification_ids(conn, user))[-1]
    await expect(tab.item(late)).to_have_class(re.compile(r"\bunread\b"), timeout=LIVE_MS)
    await expect(tab.badge).to_have_text("1")
    async with tab.page.expect_response("**/dismiss-all") as cleared:
        await tab.page.get_by_role("button", name="Clear all").click()
    assert (await cleared.value).request.post_data_json == {"up_to_id": late}
    await expect(tab.items).to_have_count(0)
    await expect(tab.page.locator("notification-center .empty")).to_be_visible()
    assert (await api_get(pages, "/api/v1/notifications/history"))["items"] == []

    await tab.page.keyboard.press("Escape")
    await expect(tab.page.locator("notification-center .panel")).to_be_hidden()
    await tab.open_panel()
    await tab.page.locator("main").click()  # outside
    await expect(tab.page.locator("notification-center .panel")).to_be_hidden()


async def test_the_element_shows_markup_as_text_at_phone_width(
    browser: Browser, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    context = await browser.new_context(
        base_url=server.base_url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        await serve_pages(context)
        user = uuid.uuid4()
        await login(context, user)
        title = '<img src=x onerror="window.__xss = 1; alert(1)">'
        error = "<b>bold</b><script>window.__xss = 2</script>" + "x" * 120
        await conn.execute(
            "INSERT INTO content_requests (student_id, status, title, error_message)"
            " VALUES ($1, 'failed', $2, $3)",
            user,
            "A" * 200,
            error,
        )
        tab = await tabs.element(context)
        await complete(conn, user, title=title)
        await expect(tab.badge).to_have_text("2", timeout=LIVE_MS)
        await tab.open_panel()
        video_id = (await notification_ids(conn, user))[-1]
        await expect(tab.item(video_id).locator(".body")).to_have_text(title)
        await expect(tab.page.locator("notification-center .body", has_text=error)).to_have_count(1)
        for tag in ("img", "script", "b"):
            assert await tab.page.locator(f"notification-center .panel {tag}").count() == 0
        assert await tab.js("window.__xss") is None

        widths = await tab.js(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == 390, widths
        box = await tab.page.locator("notification-center .panel").bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= 390, box
        for row in await tab.items.all():
            row_box = await row.bounding_box()
            assert row_box is not None
            assert row_box["x"] + row_box["width"] <= 390, row_box
    finally:
        await context.close()


async def test_a_click_in_the_element_opens_the_subjects_page(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    failed = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, error_message)"
        " VALUES ($1, 'failed', 'Tides', 'No.') RETURNING id",
        user,
    )
    made = await complete(conn, user, title="Volcanoes")
    failed_notice, video_notice = await notification_ids(conn, user)
    tab = await tabs.element(pages)
    await tab.js("() => { window.__opened = []; window.open = (u) => window.__opened.push(u); }")
    await tab.open_panel()
    await tab.item(failed_notice).locator("button.main").click()
    await tab.item(video_notice).locator("button.main").click()
    # Its `link` on the service: the failed request's own page (once only a video opened), and
    # the video in the app's player (once the raw .webm).
    assert await tab.js("window.__opened") == [
        f"{server.base_url}/requests/{failed}",
        f"{server.base_url}/videos/{made}",
    ]
