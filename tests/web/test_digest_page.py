"""The preferences dialog's "By email" section: opting in to the email digest through the page,
the unconfirmed state and the resend limit, the last error as text, turning it off.

Real Chromium, a real server with a real SMTP server on loopback (aiosmtpd), and Postgres.
"""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect

from service.settings import Settings
from tests.support.browser import TIMEOUT_MS, Tabs, api_get
from tests.support.digest import confirm_link, confirmations_to, digest_settings
from tests.support.mailbox import Mailbox
from tests.support.server import RunningServer
from tests.support.waiting import until

PREFS = "/api/v1/digest/preferences"


@pytest.fixture(scope="module")
def server_settings(database_url: str, module_mailbox: Mailbox) -> Settings:
    return digest_settings(database_url, module_mailbox)


async def test_a_student_opts_in_confirms_and_turns_the_digest_off_in_the_page(
    context: BrowserContext, server: RunningServer, module_mailbox: Mailbox, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    address = f"page-{user.hex[:8]}@example.com"
    page = (await tabs.open(context, user)).page
    await page.click("#prefs-button")
    controls = page.locator("#prefs-email-controls")
    await expect(controls).to_have_attribute("data-state", "off")
    await expect(page.locator("#prefs-email-state")).to_have_text("No email digest.")
    await expect(page.locator("#prefs-email-unavailable")).to_be_hidden()

    await page.get_by_label("Email address").fill(address)
    await page.get_by_label("How often").select_option("weekly")
    await page.get_by_label("Email address").press("Enter")  # saves; the page stays
    await expect(controls).to_have_attribute("data-state", "unconfirmed")
    await expect(page.locator("#prefs-email-state")).to_contain_text(
        f"Check your inbox at {address}"
    )
    assert page.url == f"{server.base_url}/preferences"  # no form submitted: the page stays
    [mail] = await until(
        lambda: confirmations_to(module_mailbox, address), "the confirmation email"
    )
    stored = await api_get(context, PREFS)
    assert (stored["email"], stored["period"], stored["confirmed"]) == (address, "weekly", False)

    # One confirmation email per 10 minutes: the page says when to try again, nothing is sent.
    await page.click("#prefs-email-resend")
    await expect(page.locator("#prefs-email-error")).to_have_text(
        "A confirmation email was sent recently: try again in 10 minutes."
    )
    assert len(confirmations_to(module_mailbox, address)) == 1

    async with httpx.AsyncClient(base_url=server.base_url) as client:
        confirmed = await client.post(confirm_link(mail))
    assert confirmed.json()["confirmed"] is True, confirmed.text
    await page.click("#prefs-close")
    await page.click("#prefs-button")
    await expect(controls).to_have_attribute("data-state", "confirmed")
    await expect(page.locator("#prefs-email-state")).to_have_text(
        f"A weekly digest goes to {address}."
    )
    await expect(page.locator("#prefs-email-resend")).to_be_hidden()

    await page.click("#prefs-email-stop")
    await expect(controls).to_have_attribute("data-state", "off")
    await expect(page.get_by_label("Email address")).to_have_value("")
    assert (await api_get(context, PREFS))["email"] is None


async def test_the_last_error_is_shown_as_text(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    page = (await tabs.open(context, user)).page
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.put(
            PREFS,
            json={"email": f"err-{user.hex[:8]}@example.com", "period": "daily"},
            headers={"Authorization": f"Bearer {server.token(user)}"},
        )
    assert response.status_code == 200, response.text
    markup = '<img src=x onerror="alert(1)"> 550 <b>mailbox unavailable</b>'
    await conn.execute(
        "INSERT INTO email_digests (user_id, state, last_error) VALUES ($1, 'failed', $2)",
        user,
        markup,
    )
    await page.click("#prefs-button")
    await expect(page.locator("#prefs-email-last-error")).to_have_text(f"Not sent: {markup}")
    assert await page.locator("#prefs-email img, #prefs-email b").count() == 0


async def test_saving_sends_the_browsers_time_zone(
    browser: Browser, server: RunningServer, tabs: Tabs
) -> None:
    # The digest dates its rows in the student's time zone: the page tells the server which.
    context = await browser.new_context(base_url=server.base_url, timezone_id="Europe/Lisbon")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        user = uuid.uuid4()
        page = (await tabs.open(context, user)).page
        await page.click("#prefs-button")
        await page.get_by_label("Email address").fill(f"tz-{user.hex[:8]}@example.com")
        await page.click("#prefs-email-save")
        await expect(page.locator("#prefs-email-controls")).to_have_attribute(
            "data-state", "unconfirmed"
        )
        assert (await api_get(context, PREFS))["time_zone"] == "Europe/Lisbon"
    finally:
        await context.close()
