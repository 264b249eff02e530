"""Before/after screenshots of the fresh reviewer's findings on issue 22's page (polish).

Not a test: `.venv/bin/python -m tests.web.shots_polish after-i22` (or `before-i22`, on the old
page); see tests/web/shots.py. Phone scenarios at 390x844 with touch, desktop ones at 1366x800.
"""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import Page, ViewportSize

from tests.support.server import complete
from tests.support.touch import swipe
from tests.web.shots import PHONE, Scenario, clarification, open_panel, run
from tests.web.shots_ab import admin_page
from tests.web.shots_live import _offline
from tests.web.shots_panel import DESKTOP, dark, phone


async def swipe_answer(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """A swipe sideways that starts on a question toast's answer box (with history behind)."""
    await page.goto("/admin")
    await page.goto("/")
    await page.wait_for_selector("#connection[data-state=connected]")
    await clarification(conn, user)
    await page.fill(".toast textarea", "Grade 7, and I like dia")
    box = await page.locator(".toast textarea").bounding_box()
    assert box is not None
    await swipe(page, box, 250)
    await page.wait_for_timeout(800)


async def retry_header(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await _offline(page, user)
    await page.wait_for_timeout(1500)


async def undo_keyboard(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    for title in ("Volcanoes", "Tides", "Gravity"):
        await complete(conn, user, title=title)
    await page.reload()
    await page.wait_for_selector("#connection[data-state=connected]")
    await open_panel(page)
    await page.locator("#panel-list .notice").first.locator(".archive").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#snackbar:not([hidden])")
    await page.wait_for_timeout(400)


async def over_time_light(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await admin_page(page, conn, dark=False)
    await page.locator("#series-chart").scroll_into_view_if_needed()


async def over_time_dark(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await admin_page(page, conn, dark=True)
    await page.locator("#series-chart").scroll_into_view_if_needed()


async def coinciding_dark(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """Every notification delivered: the made and delivered lines coincide."""
    await admin_page(page, conn, dark=True)
    await conn.execute(
        "UPDATE notifications SET delivered_at = coalesce(delivered_at, created_at),"
        " delivered_via = coalesce(delivered_via, 'stream')"
    )
    await page.reload()
    await page.wait_for_selector("#results:not([hidden])")
    await page.locator("#series-chart").scroll_into_view_if_needed()
    await page.wait_for_timeout(300)


SCENARIOS: list[tuple[str, ViewportSize, Scenario]] = [
    ("swipe-answer-phone", PHONE, phone(swipe_answer)),
    ("retry-header-phone", PHONE, phone(retry_header)),
    ("retry-header-phone-dark", PHONE, phone(dark(retry_header))),
    ("undo-keyboard", DESKTOP, undo_keyboard),
    ("undo-keyboard-dark", DESKTOP, dark(undo_keyboard)),
    ("admin-over-time-phone-dark", PHONE, phone(over_time_dark)),
    ("admin-over-time-phone", PHONE, phone(over_time_light)),
    ("admin-coinciding-phone-dark", PHONE, phone(coinciding_dark)),
    ("admin-over-time-desktop", DESKTOP, over_time_light),
]


if __name__ == "__main__":
    run(SCENARIOS)
