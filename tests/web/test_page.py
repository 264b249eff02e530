"""The page in Chromium: tabs sharing a stream, phone width, the panel opening, closing, paging,
archiving and filtering.

Real Chromium, a real server and Postgres; notifications come from committed writes. With
SCREENSHOTS=1 the layout tests also write the README's screenshots of the page."""

from __future__ import annotations

import re
import uuid

import asyncpg
from playwright.async_api import Browser, BrowserContext, expect

from tests.support.browser import (
    LIVE_MS,
    TIMEOUT_MS,
    UNREAD,
    Tab,
    Tabs,
    api_get,
    new_tab,
    notification_ids,
)
from tests.support.page import (
    DESKTOP_RECORDER,
    PHONE,
    THUMBNAIL,
    no_sideways_scroll,
    overlap,
    shot,
    within_viewport,
)
from tests.support.server import RunningServer, complete
from tests.support.waiting import until


async def test_two_tabs_share_one_stream_and_show_a_desktop_notification_once(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    await context.grant_permissions(["notifications"], origin=server.base_url)
    await context.add_init_script(DESKTOP_RECORDER)
    user = uuid.uuid4()
    first = await tabs.open(context, user)
    second = await new_tab(context)
    tabs.append(second)
    await second.page.goto("/")
    await expect(second.page.locator("#connection")).to_have_attribute("data-state", "connected")
    # The package's one stream per browser: both tabs live, one stream on the server.
    assert server.hub.stream_count(user) == 1
    metrics = await (await context.request.get("/metrics")).text()
    assert re.search(r"^vividly_streams_open 1(\.0)?$", metrics, re.MULTILINE), metrics

    # Opt in from the page (a click on the toggle: the gesture a permission prompt needs).
    await first.page.click("#prefs-button")
    await first.page.get_by_label("Desktop notifications").check()
    await expect(first.page.locator("#prefs-desktop-note")).to_contain_text("in the background")
    await first.page.keyboard.press("Escape")

    for tab in (first, second):
        await tab.page.evaluate("__setHidden(true)")
    await complete(conn, user, title="Volcanoes", video_url="/media/volcanoes.webm")
    (video,) = await notification_ids(conn, user)

    async def shown() -> list[tuple[Tab, dict[str, str]]]:
        return [(tab, each) for tab in tabs for each in await tab.page.evaluate("__shown")]

    await until(shown, "a system notification", timeout=LIVE_MS / 1000)
    for tab in tabs:  # both tabs got it (a toast each), and had time to show it too
        await expect(tab.page.locator(".toast", has_text="Volcanoes")).to_have_count(1)
    await first.page.wait_for_timeout(500)
    ((showing, notice),) = await shown()  # exactly once across the tabs
    assert notice == {
        "title": "Your video is ready",
        "body": "Volcanoes",
        "tag": f"vividly-{video}",
        "icon": f"{server.base_url}/media/t.png",
    }

    # A visible tab of the app shows its toast; nobody gets a system notification.
    other = second if showing is first else first
    await other.page.evaluate("__setHidden(false)")
    await complete(conn, user, title="Tides")
    await expect(other.page.locator(".toast", has_text="Tides")).to_be_visible(timeout=LIVE_MS)
    await showing.page.wait_for_timeout(500)
    assert len(await shown()) == 1

    # Its click focuses the tab that showed it and opens the video; it is read everywhere.
    await showing.page.evaluate("__systemNotifications[0].dispatchEvent(new Event('click'))")
    await expect(showing.page.locator("#player")).to_be_visible()
    await expect(showing.page.locator("#player-title")).to_have_text("Volcanoes")
    await until(
        lambda: conn.fetchval("SELECT read_at IS NOT NULL FROM notifications WHERE id = $1", video),
        "the clicked notification is read",
    )


async def test_phone_width_fits_with_the_panel_and_a_toast_and_markup_is_text(
    browser: Browser, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    context = await browser.new_context(base_url=server.base_url, viewport=PHONE, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        user = uuid.uuid4()
        await conn.execute(
            "INSERT INTO content_requests (student_id, status, question, title, error_message)"
            " VALUES ($1, 'failed', $2, $2, $3)",
            user,
            "How do plants turn sunlight, water and air into the food they need to grow?",
            "The narrator's voice could not be generated for a script this long" + "x" * 80,
        )
        tab = await tabs.open(context, user)
        page = tab.page
        await within_viewport(page, "#bell")
        await no_sideways_scroll(page)

        title = "<img src=x onerror=alert(1)>"
        await complete(conn, user, title=title)
        toast = page.locator(".toast", has_text=title)
        await expect(toast.locator(".toast-body")).to_have_text(title)
        await no_sideways_scroll(page)
        await within_viewport(page, "#toasts")
        await shot(page, "page-phone-toast.png")

        await tab.open_panel()
        await expect(page.locator("#toasts")).to_be_hidden()  # never over the open panel
        (_, video) = await notification_ids(conn, user)
        await expect(tab.notice(video).locator(".notice-body")).to_have_text(title)
        await no_sideways_scroll(page)
        await within_viewport(page, "#panel")
        assert await page.locator("#panel").evaluate(
            "panel => panel.scrollWidth <= panel.clientWidth"
        )
        for row in await page.locator("#panel-list li").all():
            text = await row.locator(".notice-text").bounding_box()
            actions = await row.locator(".notice-actions").bounding_box()
            assert text is not None
            assert actions is not None
            assert not overlap(text, actions), (text, actions)
        await shot(page, "page-phone-panel.png")

        assert await page.locator("img:not(.notice-thumb)").count() == 0
        assert await page.locator("img[src$='/x']").count() == 0
        await tab.notice(video).locator(".notice-main").click()  # the player's title, too
        await expect(page.locator("#player-title")).to_have_text(title)
        assert await page.locator("#player img").count() == 0

        # Every stream slot taken elsewhere: a phone says so too, not only with a dot.
        await context.route(
            "**/api/v1/notifications/stream*", lambda route: route.fulfill(status=429, body="{}")
        )
        await page.reload()
        await expect(page.locator("#connection")).to_have_attribute(
            "data-state", "too_many_places", timeout=8000
        )
        status = page.locator("#connection-text")
        await expect(status).to_have_text(re.compile("too many places"))
        box = await status.bounding_box()
        assert box is not None
        assert box["width"] > 40, box  # not the 1 px of text kept for screen readers only
        await within_viewport(page, "#connection")
        await within_viewport(page, "#bell")
        await no_sideways_scroll(page)
    finally:
        await context.close()


async def test_the_panel_closes_outside_and_on_escape_and_toasts_cover_nothing(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    await context.route(
        "**/media/thumb.svg",
        lambda route: route.fulfill(content_type="image/svg+xml", body=THUMBNAIL),
    )
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    await page.set_viewport_size({"width": 1100, "height": 720})
    for title in ("Photosynthesis", "Gravity", "Volcanoes"):
        await complete(conn, user, title=title, thumbnail_url="/media/thumb.svg")
    await expect(page.locator(".toast")).to_have_count(3, timeout=LIVE_MS)
    content = await page.locator("main").bounding_box()
    region = await page.locator("#toasts").bounding_box()
    assert content is not None
    assert region is not None
    assert not overlap(content, region), (content, region)
    await shot(page, "page-desktop-toast.png")

    await tab.open_panel()
    await expect(page.locator("#toasts")).to_be_hidden()
    thumbnails = page.locator("#panel-list img.notice-thumb")
    await expect(thumbnails).to_have_count(3)
    assert await thumbnails.first.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    await expect(page.locator("#panel-list .day-label")).to_have_text(["Today"])
    await shot(page, "page-desktop-panel.png")

    await page.locator("#ask-question").click()  # outside
    await expect(page.locator("#panel")).to_be_hidden()
    await expect(page.locator("#toasts")).to_be_visible()
    await tab.open_panel()
    await page.locator("#ask-question").focus()  # Escape with the focus elsewhere
    await page.keyboard.press("Escape")
    await expect(page.locator("#panel")).to_be_hidden()
    await tab.open_panel()
    await page.keyboard.press("Escape")  # and from inside: the focus goes back to the bell
    await expect(page.locator("#panel")).to_be_hidden()
    await expect(page.locator("#bell")).to_be_focused()


async def test_the_panel_pages_archives_marks_unread_and_filters(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    for index in range(23):
        await complete(conn, user, title=f"Lesson {index}")
    ids = await notification_ids(conn, user)
    await conn.execute(
        "UPDATE notifications SET created_at = now() - interval '1 day' WHERE id = ANY($1)",
        ids[:3],
    )
    tab = await tabs.open(context, user)
    page = tab.page
    await expect(tab.badge).to_have_text("23")
    await tab.open_panel()
    items = page.locator("#panel-list li")
    await expect(items).to_have_count(20)
    await page.click("#panel-more")
    await expect(items).to_have_count(23)
    await expect(page.locator("#panel-more")).to_be_hidden()
    assert await items.evaluate_all("nodes => nodes.map(n => Number(n.dataset.id))") == ids[::-1]
    await expect(page.locator("#panel-list .day-label")).to_have_text(["Today", "Yesterday"])
    await expect(page.locator(".toast")).to_have_count(0)  # history is not news

    await tab.notice(ids[-1]).get_by_role("button", name="Archive", exact=True).click()
    await expect(items).to_have_count(22)
    newest = tab.notice(ids[-2])
    async with page.expect_response(f"**/notifications/{ids[-2]}/read"):
        await newest.get_by_role("button", name="Mark read").click()
    await expect(tab.badge).to_have_text("21")
    await expect(newest).not_to_have_class(UNREAD)
    async with page.expect_response(f"**/notifications/{ids[-2]}/unread") as unread:
        await newest.get_by_role("button", name="Mark unread").click()
    assert (await unread.value).ok
    await expect(newest).to_have_class(UNREAD)
    await expect(tab.badge).to_have_text("22")
    history = await api_get(context, "/api/v1/notifications/history?limit=100")
    assert history["unread_count"] == 22
    assert ids[-1] not in [item["id"] for item in history["items"]]
    assert next(i for i in history["items"] if i["id"] == ids[-2])["read_at"] is None

    await tab.notice(ids[-3]).get_by_role("button", name="Mark read").click()
    await expect(tab.badge).to_have_text("21")
    await page.check("#panel-unread-only")
    await expect(items).to_have_count(20)
    await expect(tab.notice(ids[-3])).to_have_count(0)
    await page.uncheck("#panel-unread-only")
    await expect(tab.notice(ids[-3])).to_have_count(1)

    # Every one on the first page read elsewhere; the two oldest, not loaded, still count.
    await expect(items).to_have_count(20)
    await conn.execute(
        "UPDATE notifications SET read_at = now() WHERE id = ANY($1) AND read_at IS NULL", ids[2:]
    )
    await expect(tab.badge).to_have_text("2", timeout=LIVE_MS)
    await expect(page.locator("#panel-list li.unread")).to_have_count(0)
    async with page.expect_response("**/notifications/read-all") as marked:
        await page.click("#panel-mark-all")
    assert (await marked.value).request.post_data_json == {"up_to_id": ids[-2]}
    await expect(tab.badge).to_be_hidden()
    await expect(page.locator("#panel-mark-all")).to_be_disabled()
