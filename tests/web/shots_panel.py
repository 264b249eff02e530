"""Before/after screenshots of issue 22's toasts, panel and header (defects 1, 2, 5-9 and the
inbox features), for docs/ui-fixes.md.

Not a test: `.venv/bin/python -m tests.web.shots_panel after-i22` (or `before-i22`, on the old
page); see tests/web/shots.py. Phone scenarios run at 390x844 with touch, desktop ones at
1366x800; `-dark` ones with `prefers-color-scheme: dark`. A scenario that needs a control the
old page lacks (the Archived view, the type filter) fails there and is skipped.
"""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import Page, ViewportSize

from tests.support.server import complete
from tests.web.shots import PHONE, Scenario, clarification, failed, open_panel, run

DESKTOP: ViewportSize = {"width": 1366, "height": 800}
PHONE_TALL: ViewportSize = {"width": 390, "height": 844}


def phone(scenario: Scenario) -> Scenario:
    """At 390x844: shots.py's phone context (touch) made as tall as the phone the issue used."""

    async def tall(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
        await page.set_viewport_size(PHONE_TALL)
        await scenario(page, conn, user)

    return tall


def dark(scenario: Scenario) -> Scenario:
    async def darkened(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
        await page.emulate_media(color_scheme="dark")
        await scenario(page, conn, user)

    return darkened


async def settle(page: Page) -> None:
    await page.wait_for_timeout(400)


async def retried(conn: asyncpg.Connection, user: uuid.UUID, title: str) -> uuid.UUID:
    """A request that failed, was tried again and then made its video: two notifications."""
    request_id = await failed(conn, user, title, "The narrator's voice could not be generated.")
    await conn.execute("UPDATE content_requests SET status = 'pending' WHERE id = $1", request_id)
    await conn.execute(
        "UPDATE content_requests SET status = 'completed', video_url = '/media/v.webm',"
        " thumbnail_url = '/media/thumb.svg', duration_seconds = 42 WHERE id = $1",
        request_id,
    )
    return request_id


async def inbox(conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await complete(conn, user, title="Volcanoes", thumbnail_url="/media/thumb.svg")
    await clarification(conn, user)
    await retried(conn, user, "Why is the sky blue?")
    await conn.execute(
        "UPDATE notifications SET read_at = now() WHERE user_id = $1"
        " AND id = (SELECT min(id) FROM notifications WHERE user_id = $1)",
        user,
    )


async def toasts(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await failed(conn, user, "Tides", "The video could not be rendered.")
    for index in range(3):
        await complete(conn, user, title=f"Lesson {index}: how plants turn sunlight into food")
    await page.wait_for_selector(".toast >> text=Lesson 2")
    await settle(page)


async def clarification_waits(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await clarification(conn, user)
    await page.wait_for_selector(".toast textarea")
    for index in range(3):
        await complete(conn, user, title=f"Video {index}")
    await page.wait_for_selector(".toast >> text=Video 2", state="attached")
    await settle(page)


async def outside_tap(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await complete(conn, user, title="Photosynthesis", video_url="/media/none.webm")
    await page.wait_for_selector("#requests-list button:has-text('Watch')")
    await page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
    await page.click("#bell")
    await page.wait_for_selector("#panel", state="visible")
    box = await page.locator("#requests-list button:has-text('Watch')").bounding_box()
    assert box is not None
    # Under the panel on a phone: scroll the button below it, then tap it.
    await page.evaluate("document.getElementById('panel').style.maxHeight = '12rem'")
    await page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await settle(page)


async def failure_toast(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await failed(conn, user, "Why is the sky blue?", "The video could not be rendered.")
    await page.wait_for_selector(".toast-failed")
    await settle(page)


async def panel(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await inbox(conn, user)
    await page.reload()
    await page.wait_for_selector("#connection[data-state=connected]")
    await open_panel(page)


async def panel_thread(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await panel(page, conn, user)
    await page.get_by_role("button", name="History").first.click()
    await settle(page)


async def panel_filter(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await panel(page, conn, user)
    await page.get_by_label("Type", exact=True).select_option(label="Your video is ready")
    await settle(page)


async def panel_undo(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await panel(page, conn, user)
    await page.locator("#panel-list .notice").first.get_by_role("button", name="Archive").click()
    await page.wait_for_selector("#snackbar >> text=Undo")
    await settle(page)


async def panel_archived(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await panel_undo(page, conn, user)
    await page.get_by_role("tab", name="Archived").click()
    await page.wait_for_selector("#panel-list .notice")
    await settle(page)


async def panel_snooze(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await panel(page, conn, user)
    await page.locator("#panel-list .notice").first.get_by_role("button", name="Snooze").click()
    await settle(page)


async def header_menu(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await header(page, conn, user)
    await page.get_by_role("button", name="Menu").tap()
    await settle(page)


async def focus_after_archive(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await panel(page, conn, user)
    await page.locator("#panel-list .notice").first.locator(".archive").focus()
    await page.keyboard.press("Enter")
    await settle(page)


async def header(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await complete(conn, user, title="Photosynthesis")
    await page.wait_for_selector(".toast")
    await page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
    await settle(page)


SCENARIOS: list[tuple[str, ViewportSize, Scenario]] = [
    ("phone-toasts", PHONE, phone(toasts)),
    ("phone-toasts-dark", PHONE, phone(dark(toasts))),
    ("phone-clarification-waits", PHONE, phone(clarification_waits)),
    ("phone-outside-tap", PHONE, phone(outside_tap)),
    ("failure-toast", DESKTOP, failure_toast),
    ("panel", DESKTOP, panel),
    ("panel-dark", DESKTOP, dark(panel)),
    ("panel-phone", PHONE, phone(panel)),
    ("panel-thread", DESKTOP, panel_thread),
    ("panel-thread-dark", DESKTOP, dark(panel_thread)),
    ("panel-filter", DESKTOP, panel_filter),
    ("panel-filter-dark", DESKTOP, dark(panel_filter)),
    ("panel-undo", DESKTOP, panel_undo),
    ("panel-archived", DESKTOP, panel_archived),
    ("panel-archived-dark", DESKTOP, dark(panel_archived)),
    ("panel-snooze", DESKTOP, panel_snooze),
    ("focus-after-archive", DESKTOP, focus_after_archive),
    ("phone-header", PHONE, phone(header)),
    ("phone-header-dark", PHONE, phone(dark(header))),
    ("phone-header-menu", PHONE, phone(header_menu)),
    ("phone-header-menu-dark", PHONE, phone(dark(header_menu))),
]

if __name__ == "__main__":
    run(SCENARIOS)
