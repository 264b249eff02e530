"""Issue 22, Progress, at desktop 1366x800: a request's row shows the pipeline's stage live, in
the student's words, with a progress bar; no notification is made for a stage."""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import Browser, expect

from tests.support.browser import LIVE_MS, TIMEOUT_MS, Tabs
from tests.support.server import RunningServer

DESKTOP = {"width": 1366, "height": 800}


async def test_the_row_shows_the_stage_live_as_steps(
    browser: Browser, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    context = await browser.new_context(base_url=server.base_url, viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    try:
        user = uuid.uuid4()
        request_id = await conn.fetchval(
            "INSERT INTO content_requests (student_id, status, question, claimed_by)"
            " VALUES ($1, 'processing', 'Why do we dream?', 'w') RETURNING id",
            user,
        )
        await conn.execute("UPDATE content_requests SET stage = 'nlu' WHERE id = $1", request_id)
        page = (await tabs.open(context, user)).page
        row = page.locator(f'#requests-list li[data-id="{request_id}"]')
        bar = row.get_by_role("progressbar")
        # Read from the table on load.
        await expect(bar).to_have_accessible_name("Step 1 of 4: Understanding your question")
        for stage, words, step in [
            ("script", "Step 2 of 4: Writing the script", "2"),
            ("tts", "Step 3 of 4: Recording the voice", "3"),
            ("video", "Step 4 of 4: Making the video", "4"),
        ]:
            await conn.execute(
                "UPDATE content_requests SET stage = $2 WHERE id = $1", request_id, stage
            )
            # Live: the page re-reads rows in flight only every 10 s.
            await expect(row.locator(".request-step")).to_have_text(words, timeout=LIVE_MS)
            await expect(bar).to_have_accessible_name(words)
            await expect(bar).to_have_attribute("value", step)
        # Released back to the queue: the steps go, live too.
        await conn.execute(
            "UPDATE content_requests SET status = 'pending', claimed_by = NULL WHERE id = $1",
            request_id,
        )
        await expect(row).to_have_attribute("data-status", "pending", timeout=LIVE_MS)
        await expect(bar).to_have_count(0)
        assert (
            await conn.fetchval("SELECT count(*) FROM notifications WHERE user_id = $1", user) == 0
        )
        await expect(page.locator("#badge")).to_be_hidden()
    finally:
        await context.close()
