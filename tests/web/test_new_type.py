"""A type added on the server while the page is open (a registry row and a notification, as a
migration would add them) shows in the page with its registry label: toast, panel and
preferences, with no change to the page's code."""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import BrowserContext, expect

from tests.support import new_type
from tests.support.server import RunningServer

LIVE_MS = 2500


async def test_a_new_type_renders_with_its_registry_label(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    response = await context.request.post("/api/v1/dev/login", data={"user_id": str(user)})
    assert response.ok, await response.text()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    async with page.expect_response("**/api/v1/notifications/types") as first_read:
        await page.goto("/")
    assert new_type.NAME not in await (await first_read.value).text()  # the page's registry
    await expect(page.locator("#connection")).to_have_attribute("data-state", "connected")

    await new_type.add_type(conn)
    await new_type.notify(conn, user, {"title": "Algebra II"})

    toast = page.locator(".toast", has_text="Algebra II")
    await expect(toast).to_be_visible(timeout=LIVE_MS)
    await expect(toast.locator(".toast-heading")).to_have_text(new_type.LABEL)
    await expect(page.locator("#badge")).to_have_text("1")

    await page.click("#bell")
    item = page.locator(f'#panel-list li[data-type="{new_type.NAME}"]')
    await expect(item.locator(".notice-heading")).to_have_text(new_type.LABEL)
    await expect(item.locator(".notice-body")).to_have_text("Algebra II")
    await page.click("#panel-close")

    await page.click("#prefs-button")
    box = page.get_by_role("checkbox", name=new_type.LABEL)
    await expect(box).to_be_checked()
    await expect(box).to_be_enabled()
    await expect(page.locator("#prefs")).to_contain_text(new_type.DESCRIPTION)
    async with page.expect_response("**/api/v1/notifications/preferences") as saved:
        await box.uncheck()
    assert (await saved.value).ok
    await expect(page.locator("#prefs-saved")).to_have_text("Saved.")
    preferences = await context.request.get("/api/v1/notifications/preferences")
    assert (await preferences.json())["in_app"][new_type.NAME] is False
    assert errors == []
