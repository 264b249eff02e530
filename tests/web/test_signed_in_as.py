"""Who is signed in, as the page says it (issue 23's review), in Chromium on a real server: the
header and "This request is not in your account" name the student by their display name (the
dev login's name, a token's `name` claim), shown as text, else by the start of their id, never
the raw UUID; that page offers to sign in with another account, which keeps the address so the
right student lands on the request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Literal

import asyncpg
import pytest
from playwright.async_api import BrowserContext, Page, expect

from service.http.auth import COOKIE_NAME, mint_token
from service.http.routes.dev import dev_user_id
from tests.support.browser import Tabs, new_tab
from tests.support.page import Trouble, shot
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
async def test_the_header_and_the_missing_page_name_the_student(
    phone: BrowserContext,
    desktop: BrowserContext,
    server: RunningServer,
    conn: asyncpg.Connection,
    tabs: Tabs,
    device: str,
    scheme: Literal["light", "dark"],
) -> None:
    amelia = dev_user_id("amelia")
    foreign = await complete(conn, uuid.uuid4())
    tab = await new_tab(phone if device == "phone" else desktop)
    tabs.append(tab)
    page = tab.page
    await page.emulate_media(color_scheme=scheme)
    trouble = Trouble()
    trouble.watch(page)
    await page.goto(f"/requests/{foreign}")
    await sign_in(page, "amelia")
    if device == "desktop":  # a phone's header has no room for it
        await expect(page.locator("#whoami")).to_have_text("amelia")
    await expect(page.get_by_role("heading", name=NOT_YOURS)).to_be_focused()
    text = page.locator("#subject-missing-text")
    await expect(text).to_contain_text("You are signed in as amelia: the link")
    assert str(amelia) not in await page.locator("#app").inner_text()
    switch = page.get_by_role("button", name="Sign in with another account")
    rect = await switch.bounding_box()
    assert rect is not None
    if device == "phone":
        assert rect["height"] >= 44  # a finger's target
    # The foreign request's 404 aside (its console line names no URL: each 404's own line does).
    expected = ("/api/v1/content-requests/", "status of 404 (Not Found)")
    assert [t for t in trouble if not any(part in t for part in expected)] == []
    await shot(page, f"after-i23-signed-in-as-{device}{'-dark' if scheme == 'dark' else ''}.png")


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
        f"You are signed in as {str(user)[:8]}…: the link"
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


async def test_sign_in_with_another_account_keeps_the_address(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    owner = f"student-{uuid.uuid4().hex[:8]}"
    request_id = await complete(conn, dev_user_id(owner), title="Why is the sky blue?")
    tab = await new_tab(context)
    tabs.append(tab)
    page = tab.page
    path = f"/videos/{request_id}"
    await page.goto(path)
    await sign_in(page, "amelia")  # the wrong student
    await expect(page.locator("#subject-missing")).to_be_visible()
    await page.get_by_role("button", name="Sign in with another account").click()
    await expect(page.locator("#login")).to_be_visible()
    await expect(page).to_have_url(server.base_url + path)  # kept
    assert (await context.request.get("/api/v1/session")).ok
    assert not (await (await context.request.get("/api/v1/session")).json())["signed_in"]
    await page.keyboard.type(owner)  # the last name is selected: typing replaces it
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#player-title")).to_have_text("Why is the sky blue?")
    await expect(page).to_have_url(server.base_url + path)
    await expect(page.locator("#whoami")).to_have_text(owner)


async def test_the_missing_page_offers_another_account_and_log_out_still_goes_home(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    tab = await tabs.open(context, uuid.uuid4())
    await tab.page.goto("/requests/not-a-uuid")
    await expect(
        tab.page.get_by_role("button", name="Sign in with another account")
    ).to_be_visible()
    # An ordinary Log out still starts the next student at home.
    await tab.page.click("#logout")
    await expect(tab.page.locator("#login")).to_be_visible()
    await expect(tab.page).to_have_url(server.base_url + "/")
