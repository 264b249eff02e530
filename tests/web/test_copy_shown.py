"""The copy a notification was made with is what the student's page shows, live (the stream)
and in the panel (history). Real Chromium, a real server and Postgres."""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import BrowserContext, expect

from tests.support.browser import LIVE_MS, Tabs, notification_ids
from tests.support.server import RunningServer, complete


async def test_the_page_shows_the_students_variant_live_and_in_the_panel(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    experiment = await conn.fetchval(
        "INSERT INTO copy_experiments (type, a_heading, a_body, b_heading, b_body)"
        " VALUES ('video_complete', 'A: {title} is ready', 'A body for {title}',"
        "         'B: {title} is here', 'B body for {title}') RETURNING id"
    )
    try:
        student = uuid.uuid4()
        variant = await conn.fetchval("SELECT vividly_copy_variant_v1($1, $2)", student, experiment)
        tab = await tabs.open(context, student)
        await complete(conn, student, title="Tides")
        [made] = await notification_ids(conn, student)
        heading = f"{variant.upper()}: Tides is " + ("ready" if variant == "a" else "here")
        await expect(tab.badge).to_have_text("1", timeout=LIVE_MS)  # live, from the stream
        await tab.open_panel()
        await expect(tab.notice(made)).to_contain_text(heading)
        await expect(tab.notice(made)).to_contain_text(f"{variant.upper()} body for Tides")
        await expect(tab.notice(made)).not_to_contain_text("Your video is ready")
        await tab.page.reload()  # from history
        await tab.open_panel()
        await expect(tab.notice(made)).to_contain_text(heading)
    finally:
        await conn.execute("UPDATE copy_experiments SET stopped_at = now() WHERE id = $1",
                           experiment)  # fmt: skip
