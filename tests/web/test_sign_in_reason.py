"""Signed out on a page's own address, the sign-in form says what signing in opens ("Sign in to
see your video", "…your request", "…your preferences"), in Chromium on a real server; on `/`,
and after Log out, it says only its usual text.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from playwright.async_api import BrowserContext, expect

from tests.support.browser import Tabs, new_tab
from tests.support.page import Trouble, shot
from tests.support.server import RunningServer, running_server, settings_for


@pytest.fixture(scope="module")
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with running_server(settings_for(database_url)) as running:
        yield running


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (f"/videos/{uuid.uuid4()}", "Sign in to see your video"),
        (f"/requests/{uuid.uuid4()}?action=retry", "Sign in to see your request"),
        ("/preferences", "Sign in to see your preferences"),
        ("/", None),
    ],
)
async def test_the_sign_in_form_says_what_it_opens(
    context: BrowserContext, server: RunningServer, tabs: Tabs, path: str, reason: str | None
) -> None:
    tab = await new_tab(context)
    tabs.append(tab)
    await tab.page.goto(path)
    await expect(tab.page.locator("#login")).to_be_visible()
    if reason is None:
        await expect(tab.page.locator("#login-reason")).to_be_hidden()
    else:
        await expect(tab.page.locator("#login-reason")).to_have_text(reason)


async def test_log_out_leaves_no_reason(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    tab = await tabs.open(context, uuid.uuid4())
    await tab.page.goto(f"/requests/{uuid.uuid4()}")
    await tab.page.click("#logout")
    await expect(tab.page.locator("#login")).to_be_visible()
    await expect(tab.page.locator("#login-reason")).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
async def test_the_reason_fits_phone_and_desktop(
    phone: BrowserContext,
    desktop: BrowserContext,
    server: RunningServer,
    tabs: Tabs,
    device: str,
    scheme: Literal["light", "dark"],
) -> None:
    tab = await new_tab(phone if device == "phone" else desktop)
    tabs.append(tab)
    page = tab.page
    await page.emulate_media(color_scheme=scheme)
    trouble = Trouble()
    trouble.watch(page)
    await page.goto(f"/videos/{uuid.uuid4()}")
    await expect(page.locator("#login-reason")).to_have_text("Sign in to see your video")
    widths = await page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    assert trouble == []
    await shot(page, f"after-i23-sign-in-reason-{device}{'-dark' if scheme == 'dark' else ''}.png")
