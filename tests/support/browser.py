"""Driving the web page in the test browser: Debian's chromium, a tab that records what it threw
and alerted, logging in through the API, and small reads the page tests share."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from playwright.async_api import BrowserContext, Dialog, Locator, Page, expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 5000

LIVE_MS = 2500  # "within a couple of seconds" for anything that travels over the stream
UNREAD = re.compile(r"\bunread\b")


@dataclass
class Tab:
    """A page of the app plus the uncaught errors and alerts it produced."""

    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def badge(self) -> Locator:
        return self.page.locator("#badge")

    def notice(self, notification_id: int) -> Locator:
        return self.page.locator(f'#panel-list li[data-id="{notification_id}"]')

    async def open_panel(self) -> None:
        if await self.page.locator("#panel").is_hidden():
            await self.page.click("#bell")
        await expect(self.page.locator("#panel")).to_be_visible()

    async def open_preferences(self) -> None:
        """Preferences, from the header on a wide screen or from its Menu on a phone."""
        await open_account_item(self.page, "#prefs-button")


async def open_account_item(page: Page, selector: str) -> None:
    """Click Preferences or Log out: on a phone they are behind the header's Menu."""
    if not await page.locator(selector).is_visible():
        await page.click("#account-button")
    await page.click(selector)


async def new_tab(context: BrowserContext) -> Tab:
    page = await context.new_page()
    tab = Tab(page)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))

    async def on_dialog(dialog: Dialog) -> None:
        tab.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    return tab


async def open_app(context: BrowserContext, user: uuid.UUID) -> Tab:
    """Log in through the API (the cookie lands in the context), load the page, wait for live."""
    response = await context.request.post("/api/v1/dev/login", data={"user_id": str(user)})
    assert response.ok, await response.text()
    tab = await new_tab(context)
    await tab.page.goto("/")
    await expect(tab.page.locator("#connection")).to_have_attribute("data-state", "connected")
    return tab


async def api_get(context: BrowserContext, path: str) -> Any:
    response = await context.request.get(path)
    assert response.ok, await response.text()
    return await response.json()


async def notification_ids(conn: asyncpg.Connection, user: uuid.UUID) -> list[int]:
    rows = await conn.fetch("SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user)
    return [row["id"] for row in rows]


class Tabs(list[Tab]):
    """The tabs a test opened."""

    async def open(self, context: BrowserContext, user: uuid.UUID) -> Tab:
        """`open_app`, remembered so the test's end can check the tab."""
        tab = await open_app(context, user)
        self.append(tab)
        return tab
