"""`/preferences` (issue 23's review), in Chromium on a real server: it opens with "By email"
focused (the digest's "Manage preferences" is about it), not the dialog's close button; every
checkbox is the same size on a phone, however its label wraps.
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
async def test_preferences_open_at_by_email_with_even_checkboxes(
    phone: BrowserContext,
    desktop: BrowserContext,
    server: RunningServer,
    tabs: Tabs,
    device: str,
    scheme: Literal["light", "dark"],
) -> None:
    context = phone if device == "phone" else desktop
    assert (await context.request.post("/api/v1/dev/login", data={"user_id": str(uuid.uuid4())})).ok
    tab = await new_tab(context)
    tabs.append(tab)
    page = tab.page
    await page.emulate_media(color_scheme=scheme)
    trouble = Trouble()
    trouble.watch(page)
    await page.goto("/preferences")
    dialog = page.locator("#prefs")
    await expect(dialog).to_be_visible()
    by_email = dialog.locator("#prefs-email legend")
    await expect(by_email).to_have_text("By email")
    await expect(by_email).to_be_focused()
    await expect(by_email).to_be_in_viewport()
    boxes = dialog.locator("#prefs-types input[type=checkbox]")
    await expect(boxes.first).to_be_enabled()  # the types are drawn
    sizes = set()
    for box in await dialog.locator("input[type=checkbox]:visible").all():
        rect = await box.bounding_box()
        assert rect is not None
        sizes.add((round(rect["width"], 1), round(rect["height"], 1)))
    assert len(sizes) == 1, sizes  # the first type's wrapping label no longer squeezes its box
    assert trouble == []
    await shot(page, f"after-i23-prefs-{device}{'-dark' if scheme == 'dark' else ''}.png")
