"""Before/after screenshots of issue 22's reconnecting, devices and progress (defects 3, 4 and
Progress), for docs/ui-fixes.md.

Not a test: `.venv/bin/python -m tests.web.shots_live after-i22` (or `before-i22` on the old
page). The server being away is the browser offline (its stream cut, the ask failing); other
devices are other browser contexts of the same student.
"""

from __future__ import annotations

import contextlib
import gc
import uuid

import asyncpg
from playwright.async_api import Page, ViewportSize

from service.live.hub import Hub
from tests.web.shots import PHONE, Scenario, run

DESKTOP: ViewportSize = {"width": 1366, "height": 800}
QUESTION = "How do volcanoes form?"


async def _offline(page: Page, user: uuid.UUID) -> None:
    await page.context.set_offline(True)
    # Offline emulation fails new requests only: the server ends the open stream.
    gc.unfreeze()  # the server freezes what survives (service/runtime/pauses.py)
    hub = next(thing for thing in gc.get_objects() if isinstance(thing, Hub))
    hub.close_user(user, "max_age")
    await page.wait_for_selector("#connection:not([data-state=connected])", timeout=15000)


async def reconnecting(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await _offline(page, user)
    await page.wait_for_timeout(1500)


async def ask_offline(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await _offline(page, user)
    await page.fill("#ask-question", QUESTION)
    await page.click("#ask-form button[type=submit]")
    await page.wait_for_selector("#ask-error:not(:empty)")


async def _devices(page: Page, user: uuid.UUID, count: int, url: str = "") -> None:
    browser = page.context.browser
    assert browser is not None
    for _ in range(count):
        other = await browser.new_context(base_url=(url or page.url).rstrip("/"))
        await other.request.post("/api/v1/dev/login", data={"user_id": str(user)})
        device = await other.new_page()
        await device.goto("/")
        with contextlib.suppress(Exception):
            await device.wait_for_selector("#connection[data-state=connected]", timeout=3000)


async def fourth_device(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """Three other devices are open; this one is opened last."""
    url = page.url
    await page.goto("about:blank")
    await page.wait_for_timeout(500)  # its stream has closed
    await _devices(page, user, 3, url)
    await page.goto(url)
    await page.wait_for_timeout(4000)


async def displaced_device(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """Ten devices are opened after this one."""
    await _devices(page, user, 10)
    await page.wait_for_timeout(1500)


async def progress(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    request_id = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question)"
        " VALUES ($1, 'processing', $2) RETURNING id",
        user,
        QUESTION,
    )
    await page.reload()
    await page.wait_for_selector("#requests-list li")
    with contextlib.suppress(asyncpg.UndefinedColumnError):  # the old schema has no stage
        await conn.execute("UPDATE content_requests SET stage = 'tts' WHERE id = $1", request_id)
    await page.wait_for_timeout(1000)


async def dark_paused_progress(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """New UI in a dark colour scheme: a request's steps, and the paused state with Resume."""
    await page.emulate_media(color_scheme="dark")
    await progress(page, conn, user)
    await _devices(page, user, 10)
    await page.wait_for_timeout(1500)


SCENARIOS: list[tuple[str, ViewportSize, Scenario]] = [
    ("reconnecting", DESKTOP, reconnecting),
    ("reconnecting-phone", PHONE, reconnecting),
    ("ask-offline", DESKTOP, ask_offline),
    ("fourth-device", DESKTOP, fourth_device),
    ("displaced-device", DESKTOP, displaced_device),
    ("displaced-device-phone", PHONE, displaced_device),
    ("progress", DESKTOP, progress),
    ("progress-phone", PHONE, progress),
    ("dark-paused-progress", DESKTOP, dark_paused_progress),
]

if __name__ == "__main__":
    run(SCENARIOS)
