"""The preferences dialog when hard bounces suspended the digest's address: the page says it is
paused and why (before: "A weekly digest goes to ..." as if all were well), and saving the
address again starts it again. Real Chromium at 1366x800, a real server and SMTP server."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from playwright.async_api import BrowserContext, expect

from service.settings import Settings
from tests.support.browser import Tabs, api_get
from tests.support.digest import digest_settings, subscribe
from tests.support.mailbox import Mailbox

PREFS = "/api/v1/digest/preferences"
SUSPEND = (
    "UPDATE email_digest_preferences SET hard_bounces = 3, suspended_at = now(),"
    " suspended_reason = 'recipient refused: 550 5.1.1 No such user' WHERE user_id = $1"
)


@pytest.fixture(scope="module")
def server_settings(database_url: str, module_mailbox: Mailbox) -> Settings:
    return digest_settings(database_url, module_mailbox)


async def test_a_suspended_address_is_shown_with_its_reason_and_saving_lifts_it(
    desktop: BrowserContext, tabs: Tabs, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    address = f"gone-{user.hex[:8]}@example.com"
    await subscribe(conn, user, address, "weekly")
    await conn.execute(SUSPEND, user)
    tab = await tabs.open(desktop, user)
    await tab.open_preferences()
    page = tab.page
    controls = page.locator("#prefs-email-controls")
    await expect(controls).to_have_attribute("data-state", "suspended")
    await expect(page.locator("#prefs-email-state")).to_contain_text(
        f"Digests to {address} are paused"
    )
    await expect(page.locator("#prefs-email-last-error")).to_have_text(
        "The mail server said: recipient refused: 550 5.1.1 No such user"
    )
    await page.get_by_role("button", name="Save").click()
    await expect(controls).to_have_attribute("data-state", "confirmed")
    await expect(page.locator("#prefs-email-state")).to_have_text(
        f"A weekly digest goes to {address}."
    )
    await expect(page.locator("#prefs-email-last-error")).to_have_text("")
    assert (await api_get(desktop, PREFS))["suspended"] is False
