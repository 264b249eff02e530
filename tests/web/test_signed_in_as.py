"""Who is signed in, as the page says it (issue 23's review), in Chromium on a real server: the
header and "This request is not in your account" name the student by their display name (the
dev login's name, a token's `name` claim), shown as text, else by the start of their id, never
the raw UUID; that page offers to sign in with another account, which keeps the address so the
right student lands on the request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from playwright.async_api import BrowserContext, Page, expect

from service.http.auth import COOKIE_NAME, mint_token
from service.http.routes.dev import dev_user_id
from tests.support.browser import Tabs, new_tab
from tests.support.page import shot
from tests.support.server import RunningServer, complete, running_server, settings_for

NOT_YOURS = "This request is not in your account"


@pytest.fixture(scope="module")
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with running_server(settings_for(database_url)) as running:
        yield running


async def sign_in(page: Page, name: str) -> None:
    await expect(page.locator("#login")).to_be_visible()
    await page.fill("#login-user", name)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#app")).to_be_visible()


async def test_the_header_and_the_missing_page_name_the_student(
    desktop: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    amelia = dev_user_id("amelia")
    foreign = await complete(conn, uuid.uuid4())
    tab = await new_tab(desktop)
    tabs.append(tab)
    page = tab.page
    await page.goto(f"/requests/{foreign}")
    await sign_in(page, "amelia")
    await expect(page.locator("#whoami")).to_have_text("amelia")
    await expect(page.get_by_role("heading", name=NOT_YOURS)).to_be_focused()
    text = page.locator("#subject-missing-text")
    await expect(text).to_contain_text("You are signed in as amelia.")
    assert str(amelia) not in await page.locator("#app").inner_text()
    await shot(page, "after-i23-signed-in-as-desktop.png")


async def test_a_student_without_a_name_is_the_start_of_their_id(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    assert (await context.request.post("/api/v1/dev/login", data={"user_id": str(user)})).ok
    tab = await new_tab(context)
    tabs.append(tab)
    await tab.page.goto("/requests/not-a-uuid")
    await expect(tab.page.locator("#whoami")).to_have_text(f"{str(user)[:8]}…")
    await expect(tab.page.locator("#subject-missing-text")).to_contain_text(
        f"You are signed in as {str(user)[:8]}…."
    )


async def test_a_name_claim_is_text_never_html(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    name = '<img src="/x" id="injected">Amelia'
    token = mint_token(uuid.uuid4(), server.settings, name=name)
    await context.add_cookies([{"name": COOKIE_NAME, "value": token, "url": server.base_url}])
    tab = await new_tab(context)
    tabs.append(tab)
    await tab.page.goto("/requests/not-a-uuid")
    await expect(tab.page.locator("#whoami")).to_have_text(name)
    await expect(tab.page.locator("#subject-missing-text")).to_contain_text(name)
    await expect(tab.page.locator("#injected")).to_have_count(0)
