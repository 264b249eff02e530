"""Before/after screenshots of the page's defects (issue 10), for docs/ui-fixes.md.

Not a test: `.venv/bin/python -m tests.web.shots after` (or `before`, on the old page) serves
the app on a fresh database (TEST_DATABASE_URL, else the system PostgreSQL at 127.0.0.1:5432),
sets up each defect's situation with committed writes, and saves
`docs/screenshots/<phase>-<defect>.png`. Each scenario only uses what both pages have (the bell,
a notification's main button, toasts, the requests list), so the same steps show the change.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from db import migrate
from db.pool import connect
from db.urls import asyncpg_dsn, with_database
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.server import RunningServer, complete, running_server, settings_for

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP: ViewportSize = {"width": 1100, "height": 720}
PHONE: ViewportSize = {"width": 390, "height": 760}
LONG_TITLE = "How do plants turn sunlight, water and air into the food they need to grow?"
LONG_ERROR = "nlu: could not understand the question after three attempts at parsing it"
THUMB = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90">'
    '<rect width="160" height="90" fill="#4f46e5"/>'
    '<text x="80" y="52" font-size="20" fill="#fff" text-anchor="middle">Video</text></svg>'
)

Scenario = Callable[[Page, asyncpg.Connection, uuid.UUID], Awaitable[None]]


async def failed(conn: asyncpg.Connection, user: uuid.UUID, title: str, error: str) -> uuid.UUID:
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', $2, $2, $3) RETURNING id",
        user,
        title,
        error,
    )
    return request_id


async def clarification(conn: asyncpg.Connection, user: uuid.UUID) -> uuid.UUID:
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, clarification_question)"
        " VALUES ($1, 'clarification_needed', 'Explain waves', 'Which grade are you in?')"
        " RETURNING id",
        user,
    )
    return request_id


async def open_panel(page: Page) -> None:
    await page.click("#bell")
    await page.wait_for_selector("#panel", state="visible")
    await page.wait_for_timeout(300)


async def long_texts(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await failed(conn, user, LONG_TITLE, LONG_ERROR)
    await complete(conn, user, title=LONG_TITLE, thumbnail_url="/media/thumb.svg")
    await page.reload()
    await page.wait_for_selector("#connection[data-state=connected]")
    await open_panel(page)
    await page.evaluate("document.getElementById('panel').scrollLeft = 200")


async def toasts_cover(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    for index in range(3):
        await complete(conn, user, title=f"Lesson {index}: {LONG_TITLE}")
    await page.wait_for_selector(".toast >> nth=2")
    await open_panel(page)


async def phone_header(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await complete(conn, user, title="Photosynthesis")
    await page.wait_for_selector(".toast")
    await page.evaluate("window.scrollTo(400, 0)")


async def clarification_evicted(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await clarification(conn, user)
    await page.fill(".toast textarea", "Grade 7, and I like dia")
    for index in range(4):
        await complete(conn, user, title=f"Video {index}")
    await page.wait_for_selector(".toast >> text=Video 3")
    await page.wait_for_timeout(300)


async def outside_click(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await complete(conn, user, title="Photosynthesis")
    await page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
    await open_panel(page)
    await page.mouse.click(150, 500)  # the page's content, outside the panel
    await page.wait_for_timeout(300)


async def escape_anywhere(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await complete(conn, user, title="Photosynthesis")
    await page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
    await open_panel(page)
    await page.evaluate("document.activeElement.blur()")
    await page.keyboard.press("Escape")
    await page.wait_for_timeout(300)


async def mark_unread(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await complete(conn, user, title="Photosynthesis")
    await complete(conn, user, title="Gravity")
    await conn.execute("UPDATE notifications SET read_at = now() WHERE user_id = $1", user)
    await page.reload()
    await page.wait_for_selector("#connection[data-state=connected]")
    await open_panel(page)


async def click_opens(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await complete(conn, user, title="Photosynthesis", video_url="/media/none.webm")
    await page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
    await open_panel(page)
    await page.click("#panel-list .notice-main")
    await page.wait_for_timeout(500)


async def thumbnails_days(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    for title in ("Volcanoes", "Tides", "Photosynthesis"):
        await complete(conn, user, title=title, thumbnail_url="/media/thumb.svg")
    rows = await conn.fetch("SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user)
    ids = [row["id"] for row in rows]
    await conn.execute(
        "UPDATE notifications SET created_at = now() - interval '4 days' WHERE id = $1", ids[0]
    )
    await conn.execute(
        "UPDATE notifications SET created_at = now() - interval '1 day' WHERE id = $1", ids[1]
    )
    await page.reload()
    await page.wait_for_selector("#connection[data-state=connected]")
    await open_panel(page)


async def muted_spinner(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await conn.execute(
        "INSERT INTO notification_preferences (user_id, type, in_app)"
        " VALUES ($1, 'video_complete', false)",
        user,
    )
    request_id = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question)"
        " VALUES ($1, 'processing', 'Why is the sky blue?') RETURNING id",
        user,
    )
    await page.reload()
    await page.wait_for_selector("#connection[data-state=connected]")
    await page.wait_for_selector("#requests-list li")
    await conn.execute(
        "UPDATE content_requests SET status = 'completed', title = 'Why the sky is blue',"
        " video_url = '/media/none.webm' WHERE id = $1",
        request_id,
    )
    await page.wait_for_timeout(3000)  # three seconds after it finished


async def try_again(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await failed(conn, user, "Why is the sky blue?", "The video could not be rendered.")
    await page.wait_for_selector(".toast")
    await page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
    await page.wait_for_selector("#requests-list li[data-status=failed]")


SCENARIOS: list[tuple[str, ViewportSize, Scenario]] = [
    ("panel-long-text", DESKTOP, long_texts),
    ("panel-long-text-phone", PHONE, long_texts),
    ("toasts-cover-panel", DESKTOP, toasts_cover),
    ("phone-header", PHONE, phone_header),
    ("clarification-evicted", DESKTOP, clarification_evicted),
    ("outside-click", DESKTOP, outside_click),
    ("escape-anywhere", DESKTOP, escape_anywhere),
    ("mark-unread", DESKTOP, mark_unread),
    ("click-opens-subject", DESKTOP, click_opens),
    ("thumbnails-days", DESKTOP, thumbnails_days),
    ("muted-spinner", DESKTOP, muted_spinner),
    ("try-again", DESKTOP, try_again),
]


async def shoot(
    browser: Browser,
    server: RunningServer,
    conn: asyncpg.Connection,
    phase: str,
    only: set[str],
    scenarios: list[tuple[str, ViewportSize, Scenario]],
) -> None:
    for name, viewport, scenario in scenarios:
        if only and name not in only:
            continue
        context: BrowserContext = await browser.new_context(
            base_url=server.base_url,
            viewport=viewport,
            is_mobile=viewport is PHONE,
            has_touch=viewport is PHONE,
        )
        context.set_default_timeout(5000)
        try:
            user = uuid.uuid4()
            await context.request.post("/api/v1/dev/login", data={"user_id": str(user)})
            page = await context.new_page()
            page.on("pageerror", lambda error: print(f"page error: {error}", file=sys.stderr))
            await page.goto("/")
            await page.wait_for_selector("#connection[data-state=connected]")
            await scenario(page, conn, user)
            await page.screenshot(path=str(OUT / f"{phase}-{name}.png"))
            print(f"{phase}-{name}.png")
        except Exception as error:  # a scenario that fails still lets the others run
            print(f"{name}: {error!r}", file=sys.stderr)
        finally:
            await context.close()


async def main(
    phase: str, only: set[str], scenarios: list[tuple[str, ViewportSize, Scenario]]
) -> None:
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"vividly_shots_{uuid.uuid4().hex[:8]}"
    admin: Any = await asyncpg.connect(asyncpg_dsn(admin_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    media = Path(f"/tmp/vividly-shots-{name}")
    media.mkdir()
    (media / "thumb.svg").write_text(THUMB)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        conn = await connect(url)
        async with (
            running_server(settings_for(url, media_dir=media)) as server,
            async_playwright() as playwright,
        ):
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            await shoot(browser, server, conn, phase, only, scenarios)
            await browser.close()
        await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def run(scenarios: list[tuple[str, ViewportSize, Scenario]]) -> None:
    """The command line of a shots module: `python -m tests.web.<module> [before|after] [names]`."""
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "after", set(sys.argv[2:]), scenarios))


if __name__ == "__main__":
    run(SCENARIOS)
