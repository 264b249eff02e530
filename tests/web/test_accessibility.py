"""axe-core finds no serious or critical accessibility problem on the pages a student and an
admin see, at desktop (1366x800) and phone (390x844, touch) sizes, light and dark.

axe-core is the npm package in clients/js's lockfile (`make test` installs it), injected from
node_modules into the real pages: no CDN. The page's Content-Security-Policy allows no inline
script, so the test contexts bypass it (the pages under test are otherwise unchanged). Each
context checks, in turn: the signed-in page with notifications, requests and live toasts, the
open panel, the preferences dialog, the login form showing an error, and the analytics page
signed in as an admin.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Literal

import asyncpg
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from service.settings import Settings
from tests.support.browser import TIMEOUT_MS, new_tab, open_account_item
from tests.support.server import RunningServer, complete, settings_for

AXE = Path(__file__).resolve().parents[2] / "clients" / "js" / "node_modules" / "axe-core"
BLOCKING = ("serious", "critical")
DESKTOP: ViewportSize = {"width": 1366, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    # The admin page draws this module's few notifications (no group is too small to show).
    return settings_for(database_url, analytics_min_group=1)


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [node["target"] for node in violation["nodes"]]
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}"
            f" {violation['helpUrl']} at {targets}"
        )
    return "\n".join(lines)


async def blocking_violations(page: Page, where: str) -> list[str]:
    """axe-core's serious and critical violations on `page`, described (empty when none)."""
    if not (AXE / "axe.min.js").exists():
        pytest.fail("axe-core is missing: `make clients/js/node_modules/.installed` installs it")
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.add_script_tag(path=str(AXE / "axe.min.js"))
    # Colours are judged at rest: a toast sliding in (opacity 0 to 1) is not a contrast defect.
    await page.evaluate(
        "Promise.all(document.getAnimations()"
        ".filter((a) => a.effect?.getTiming().iterations !== Infinity).map((a) => a.finished))"
    )
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = [v for v in result["violations"] if v["impact"] in BLOCKING]
    return [f"{where}:\n{_describe(found)}"] if found else []


async def seed(conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """Notifications of each kind, read and unread, and requests in each status."""
    await complete(conn, user, title="How plants make food", thumbnail_url=None)
    await complete(conn, user, title="Why the sky is blue")
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', 'Volcanoes', 'Volcanoes', 'The video could not be rendered.')",
        user,
    )
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, question, clarification_question)"
        " VALUES ($1, 'clarification_needed', 'Explain waves', 'Which grade are you in?')",
        user,
    )
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, question)"
        " VALUES ($1, 'processing', 'How do tides work?')",
        user,
    )
    await conn.execute(
        "UPDATE notifications SET read_at = now()"
        " WHERE id = (SELECT min(id) FROM notifications WHERE user_id = $1)",
        user,
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_no_serious_or_critical_violation(
    browser: Browser,
    server: RunningServer,
    conn: asyncpg.Connection,
    size: str,
    scheme: Literal["light", "dark"],
) -> None:
    phone = size == "phone"
    context = await browser.new_context(
        base_url=server.base_url,
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        color_scheme=scheme,
        bypass_csp=True,  # axe is injected as an inline script
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        user = uuid.uuid4()
        await seed(conn, user)
        response = await context.request.post("/api/v1/dev/login", data={"user_id": str(user)})
        assert response.ok, await response.text()
        tab = await new_tab(context)
        page = tab.page
        await page.goto("/")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
        await expect(page.locator("#requests-list li")).to_have_count(5)
        await complete(conn, user, title="Tides")  # live: a toast with "Watch now"
        await conn.execute(
            "INSERT INTO content_requests (student_id, status, question, clarification_question)"
            " VALUES ($1, 'clarification_needed', 'Explain gravity', 'For which grade?')",
            user,
        )  # live: a toast with an answer box
        await expect(page.locator(".toast textarea")).to_be_visible()
        found = await blocking_violations(page, "the signed-in page with toasts")

        await page.click("#bell")
        await expect(page.locator("#panel-list li").first).to_be_visible()
        found += await blocking_violations(page, "the open panel")
        await page.keyboard.press("Escape")
        await expect(page.locator("#panel")).to_be_hidden()

        if phone:  # Preferences and Log out are behind the header's Menu on a phone
            await page.click("#account-button")
            await expect(page.locator("#prefs-button")).to_be_visible()
            found += await blocking_violations(page, "the open account menu")
        await open_account_item(page, "#prefs-button")
        await expect(page.locator("#prefs-types input").first).to_be_enabled()
        found += await blocking_violations(page, "the preferences dialog")
        await page.keyboard.press("Escape")
        await expect(page).to_have_url(f"{server.base_url}/")  # closed: back from /preferences

        broken = await conn.fetchval(
            "SELECT id FROM content_requests WHERE student_id = $1 AND status = 'failed'", user
        )
        await page.goto(f"/requests/{broken}")
        await expect(page.get_by_role("button", name="Try again")).to_be_focused()
        found += await blocking_violations(page, "a request's own page")
        await page.goto(f"/requests/{uuid.uuid4()}")
        await expect(page.locator("#subject-missing")).to_be_visible()
        found += await blocking_violations(page, "a request not in the account")

        await context.clear_cookies()
        await page.reload()
        await page.fill("#login-user", "two words")
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#login-error")).not_to_be_empty()
        found += await blocking_violations(page, "the login form with its error")

        admin = {"user_id": str(uuid.uuid4()), "admin": True}
        assert (await context.request.post("/api/v1/dev/login", data=admin)).ok
        await page.goto("/admin")
        await expect(page.locator("#results")).to_be_visible()
        await expect(page.locator("#table tr").nth(1)).to_be_attached()
        found += await blocking_violations(page, "the analytics page")

        assert not found, f"{size}, {scheme}:\n" + "\n".join(found)
        assert tab.errors == []
    finally:
        await context.close()
