"""The admin page at the viewports of issue 22's defect 10, and its copy experiments.

Defect 10: at 390 px the page scrolled sideways (896 px wide), "96.9 %" wrapped, types showed
as raw keys, and there was no chart over time. Each is checked at 390x844 (touch) and 1366x800.
Real Chromium, a real server and Postgres.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from service.settings import Settings
from tests.support.page import Trouble
from tests.support.server import RunningServer, settings_for

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1366, "height": 800}
SETTLE_MS = 500  # the calls a page makes after it shows

# Four days of notifications of each type, some delivered, seen and opened.
SEED = """
INSERT INTO notifications (user_id, type, payload, created_at, delivered_at, delivered_via,
                           seen_at, opened_at)
SELECT gen_random_uuid(), t.type, '{"title": "Lesson"}',
       now() - make_interval(days => d, hours => i % 20),
       CASE WHEN i % 10 <> 0 THEN now() END,
       CASE WHEN i % 10 <> 0 THEN (ARRAY['stream', 'push', 'email'])[1 + i % 3] END,
       CASE WHEN i % 10 <> 0 AND i % 3 = 0 THEN now() END,
       CASE WHEN i % 10 <> 0 AND i % 6 = 0 THEN now() END
FROM unnest(ARRAY['video_complete', 'video_failed', 'clarification_needed']) AS t (type),
     generate_series(0, 3) AS d, generate_series(1, 40) AS i
"""

# Every element showing a percentage (a number, not a sentence), and how many lines it takes.
PERCENT_LINES = """
() => [...document.querySelectorAll('#results *, #experiments *')]
  .filter((node) => node.children.length === 0)
  .filter((node) => /^[^A-Za-z]*\\d\\s?%[^A-Za-z]*$/.test(node.textContent))
  .filter((node) => node.getClientRects().length > 0)
  .map((node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
    return [node.textContent, tops.size];
  })
"""

# A phone zooms a page that is too wide out until it fits (innerWidth grows with it), so the
# page's width is held to the screen's too.
NO_SIDEWAYS = """
(screen) => document.documentElement.scrollWidth <= window.innerWidth && window.innerWidth <= screen
"""


SERIES = ("created", "delivered", "seen", "opened")
# Per series, in the chart and in its legend: the line's dash pattern and the marker's shape.
LOOKS = """
() => Object.fromEntries(['#series-chart', '.legend'].map((where) => [where,
  Object.fromEntries([...document.querySelectorAll(`${where} [data-series]`)].map((node) => {
    const line = node.querySelector('path');
    const point = node.querySelector('circle, rect, polygon');
    const shape = point && (point.dataset.shape || point.tagName);
    return [node.dataset.series, [line && getComputedStyle(line).strokeDasharray, shape]];
  }))]))
"""


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(database_url, analytics_min_group=5)


@pytest.fixture(scope="module")
async def seeded(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(SEED)
    finally:
        await conn.close()


async def admin_page(browser: Browser, server: RunningServer, viewport: ViewportSize) -> Page:
    phone = viewport is PHONE
    context = await browser.new_context(
        base_url=server.base_url, viewport=viewport, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(5000)
    login = await context.request.post(
        "/api/v1/dev/login", data={"user_id": str(uuid.uuid4()), "admin": True}
    )
    assert login.ok
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto("/admin")
    await expect(page.locator("#results")).to_be_visible()
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_no_sideways_scroll_numbers_on_one_line_labels_and_a_chart_over_time(
    browser: Browser, server: RunningServer, seeded: None, viewport: ViewportSize
) -> None:
    page = await admin_page(browser, server, viewport)
    try:
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert await page.evaluate(NO_SIDEWAYS, viewport["width"]), f"{width} px wide"
        lines: list[Any] = await page.evaluate(PERCENT_LINES)
        assert lines, "no percentages shown"
        assert [text for text, count in lines if count != 1] == []
        # Types by their registry labels, their keys kept as secondary text.
        row = page.locator('#table tr[data-type="video_complete"][data-channel="all"]')
        await expect(row.locator("th, td").first).to_contain_text("Your video is ready")
        await expect(page.locator("#results")).not_to_contain_text("clarification_needed all")
        # The chart over time: a point per day and series, with a title and a table to read.
        chart = page.locator("#series-chart")
        await expect(chart).to_be_visible()
        await expect(chart.locator("title").first).to_contain_text("over time")
        for kind in ("delivered", "seen", "opened"):
            points = chart.locator(f'[data-series="{kind}"] .point')
            assert await points.count() >= 4, kind
        assert await page.locator("#series-table tbody tr").count() >= 4
        # Lines that coincide (made = delivered when all are delivered) stay apart: each
        # series its own dash pattern and marker shape, its key in the legend drawn alike.
        looks = await page.evaluate(LOOKS)
        chart_looks = [looks["#series-chart"][kind] for kind in SERIES]
        assert len({dash for dash, _ in chart_looks}) == len(SERIES), chart_looks
        assert len({shape for _, shape in chart_looks}) == len(SERIES), chart_looks
        assert looks[".legend"] == looks["#series-chart"], looks
        box = await chart.bounding_box()
        assert box is not None
        assert box["width"] <= viewport["width"]
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await page.context.close()


async def test_experiments_show_variants_with_intervals_stop_and_make_a_winner(
    browser: Browser, server: RunningServer, conn: asyncpg.Connection
) -> None:
    page = await admin_page(browser, server, PHONE)
    try:
        # Started from the page's form; a placeholder it does not know is refused, by field.
        await page.get_by_text("New experiment").click()
        await page.select_option("#exp-type", "video_complete")
        await page.get_by_label("Heading").first.fill("{title} is ready")
        await page.get_by_label("Text").first.fill("Watch it now.")
        await page.fill("#exp-b-heading", "New video: {title}")
        await page.fill("#exp-b-body", "Hi {user}")
        start = page.get_by_role("button", name="Start the experiment")
        await start.click()
        await expect(page.locator("#experiment-error")).to_contain_text("Variant B body")
        assert await conn.fetchval("SELECT count(*) FROM copy_experiments") == 0
        await page.fill("#exp-b-body", "Tap to play.")
        await start.click()
        card = page.locator("#experiments .experiment").first
        await expect(card).to_be_visible()
        experiment = int(await card.get_attribute("data-experiment") or 0)
        await conn.execute(
            "INSERT INTO notifications (user_id, type, payload, delivered_at, delivered_via)"
            " SELECT gen_random_uuid(), 'video_complete', '{\"title\": \"Tides\"}', now(),"
            " 'stream' FROM generate_series(1, 60)"
        )
        await conn.execute(
            "UPDATE notifications SET opened_at = now()"
            " WHERE copy_experiment_id = $1 AND id % 3 = 0",
            experiment,
        )
        await page.reload()
        card = page.locator(f'#experiments [data-experiment="{experiment}"]')
        await expect(card).to_be_visible()
        await expect(card).to_contain_text("Your video is ready")
        await expect(card).to_contain_text("{title} is ready")
        await expect(card).to_contain_text("New video: {title}")
        variant_a = card.locator('[data-variant="a"]')
        await expect(variant_a.locator("[data-metric=click_through]")).to_contain_text("%")
        await expect(variant_a.locator("[data-metric=click_through] .ci")).to_be_visible()
        await expect(card.locator(".verdict")).to_be_visible()
        assert await page.evaluate(NO_SIDEWAYS, PHONE["width"])
        assert [text for text, count in await page.evaluate(PERCENT_LINES) if count != 1] == []

        await card.get_by_role("button", name="Stop").click()
        await expect(card.locator(".state")).to_have_text("stopped")
        assert await conn.fetchval(
            "SELECT stopped_at IS NOT NULL FROM copy_experiments WHERE id = $1", experiment
        )
        await card.get_by_role("button", name="Make B the default").click()
        await expect(card.locator(".state")).to_have_text("B is the default")
        copy = await conn.fetchrow(
            "SELECT copy_heading, copy_body FROM notification_types WHERE name = 'video_complete'"
        )
        assert dict(copy) == {"copy_heading": "New video: {title}", "copy_body": "Tap to play."}
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await conn.execute("UPDATE notification_types SET copy_heading = NULL, copy_body = NULL")
        await page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_signed_out_pages_load_with_a_clean_console(
    browser: Browser, server: RunningServer, viewport: ViewportSize
) -> None:
    """/admin and / signed out, then the admin's development login: no console error, no
    failed request, no error status (the probes were a 422 and two 401s)."""
    phone = viewport is PHONE
    context = await browser.new_context(
        base_url=server.base_url, viewport=viewport, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(5000)
    try:
        page = await context.new_page()
        trouble = Trouble()
        trouble.watch(page)
        await page.goto("/admin")
        await expect(page.locator("#signin")).to_be_visible()
        await expect(page.locator("#dev-login-row")).to_be_visible()
        await expect(page.locator("#message")).to_have_text(
            "Sign in with a token that holds the admin role."
        )
        await page.goto("/")
        await expect(page.locator("#login")).to_be_visible()
        await page.wait_for_timeout(SETTLE_MS)
        assert trouble == [], trouble
        await page.goto("/admin")
        await page.get_by_role("button", name="Development login as an admin").click()
        await expect(page.locator("#results")).to_be_visible()
        await page.wait_for_timeout(SETTLE_MS)
        assert trouble == [], trouble
    finally:
        await context.close()
