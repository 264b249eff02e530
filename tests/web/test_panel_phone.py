"""The panel and the header on a phone (issue 22, defects 2, 7's swipes and 8), at 390x844 with
touch: a tap outside the open panel only closes it; a row swipes to archive (with Undo) and to
mark read; Preferences and Log out are labelled, 44 px, and away from the bell."""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import BrowserContext, expect

from tests.support.browser import LIVE_MS, UNREAD, Tabs, notification_ids
from tests.support.server import complete
from tests.support.touch import swipe
from tests.support.waiting import until

TAP_PX = 44
WORDS_PX = 100  # wide enough for its label in words


async def test_a_tap_outside_the_open_panel_only_closes_it(
    phone: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(phone, user)
    page = tab.page
    await complete(conn, user, title="Photosynthesis", video_url="/media/none.webm")
    watch = page.locator("#requests-list").get_by_role("button", name="Watch")
    await expect(watch).to_be_visible(timeout=LIVE_MS)
    await tab.open_panel()
    box = await watch.bounding_box()
    assert box is not None
    await page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await expect(page.locator("#panel")).to_be_hidden()
    await page.wait_for_timeout(300)
    await expect(page.locator("#player")).to_be_hidden()  # the tap did not start the video

    await page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await expect(page.locator("#player")).to_be_visible()  # the next tap is a tap again


async def test_a_row_swipes_left_to_archive_with_undo_and_right_to_mark_read(
    phone: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await complete(conn, user, title="Volcanoes")
    await complete(conn, user, title="Tides")
    older, newer = await notification_ids(conn, user)
    tab = await tabs.open(phone, user)
    page = tab.page
    await tab.open_panel()
    row = tab.notice(newer)
    box = await row.bounding_box()
    assert box is not None
    async with page.expect_response(f"**/notifications/{newer}") as archived:
        await swipe(page, box, -box["width"] * 0.6)
    assert (await archived.value).request.method == "DELETE"
    await expect(row).to_have_count(0)
    snackbar = page.locator("#snackbar")
    await expect(snackbar).to_contain_text("Archived")
    undo = snackbar.get_by_role("button", name="Undo")
    undo_box = await undo.bounding_box()
    assert undo_box is not None
    assert undo_box["height"] >= TAP_PX, undo_box
    async with page.expect_response(f"**/notifications/{newer}/restore"):
        await undo.tap()
    await expect(row).to_have_count(1)
    restored = "SELECT dismissed_at IS NULL FROM notifications WHERE id = $1"
    await until(lambda: conn.fetchval(restored, newer), "restored")

    row = tab.notice(older)
    await expect(row).to_have_class(UNREAD)
    box = await row.bounding_box()
    assert box is not None
    async with page.expect_response(f"**/notifications/{older}/read"):
        await swipe(page, box, box["width"] * 0.6)
    await expect(row).not_to_have_class(UNREAD)
    await expect(row.get_by_role("button", name="Mark unread")).to_be_visible()
    await expect(page.locator("#player")).to_be_hidden()  # a swipe is not a tap on the row


async def test_the_phone_header_labels_preferences_and_log_out_away_from_the_bell(
    phone: BrowserContext, tabs: Tabs
) -> None:
    page = (await tabs.open(phone, uuid.uuid4())).page
    menu = page.get_by_role("button", name="Menu")
    await expect(page.locator("#logout")).to_be_hidden()  # not beside the bell
    for control in (page.locator("#bell"), menu):
        box = await control.bounding_box()
        assert box is not None
        assert box["width"] >= TAP_PX, box
        assert box["height"] >= TAP_PX, box
    await menu.tap()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    bell = await page.locator("#bell").bounding_box()
    assert bell is not None
    for name in ("Preferences", "Log out"):
        item = page.get_by_role("button", name=name, exact=True)
        await expect(item).to_be_visible()
        await expect(item).to_contain_text(name)
        box = await item.bounding_box()
        assert box is not None
        assert box["width"] >= WORDS_PX, (name, box)  # words, not an icon
        assert box["height"] >= TAP_PX, (name, box)
        assert box["y"] >= bell["y"] + bell["height"], (name, box, bell)  # below, not beside
    await page.keyboard.press("Escape")
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await expect(menu).to_be_focused()

    await menu.tap()
    await page.get_by_role("button", name="Log out").tap()
    await expect(page.locator("#login")).to_be_visible()
