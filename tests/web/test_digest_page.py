"""The preferences dialog's "By email" section: opting in to the email digest through the page,
the unconfirmed state and the resend limit, the last error as text, turning it off, and what it
says after the email's unsubscribe link turned it off (phone and desktop, light and dark).

Real Chromium, a real server with a real SMTP server on loopback (aiosmtpd), and Postgres.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect

from service.channels.email.signed_links import UNSUBSCRIBE_PATH, UnsubscribeLinks
from service.settings import Settings
from tests.support.browser import TIMEOUT_MS, Tabs, api_get
from tests.support.digest import confirm_link, confirmations_to, digest_settings
from tests.support.mailbox import Mailbox
from tests.support.server import RunningServer
from tests.support.waiting import until
from tests.web.conftest import DESKTOP_1366, PHONE_844

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


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_after_the_unsubscribe_link_the_page_says_it_is_off_and_how_to_turn_it_on(
    size: str,
    browser: Browser,
    server: RunningServer,
    conn: asyncpg.Connection,
    tabs: Tabs,
    tmp_path: Path,
) -> None:
    viewport = PHONE_844 if size == "phone" else DESKTOP_1366
    context = await browser.new_context(
        base_url=server.base_url, viewport=viewport, is_mobile=size == "phone"
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        await _off_by_link_then_on(context, tmp_path / size, server, conn, tabs)
    finally:
        await context.close()


async def _off_by_link_then_on(
    context: BrowserContext,
    shots: Path,
    server: RunningServer,
    conn: asyncpg.Connection,
    tabs: Tabs,
) -> None:
    user = uuid.uuid4()
    address = f"off-{user.hex[:8]}@example.com"
    links = UnsubscribeLinks.from_settings(server.settings)
    assert links is not None
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        saved = await client.put(
            PREFS,
            json={"email": address, "period": "daily"},
            headers={"Authorization": f"Bearer {server.token(user)}"},
        )
        assert saved.status_code == 200, saved.text
        await conn.execute(
            "UPDATE email_digest_preferences SET confirmed_at = now() WHERE user_id = $1", user
        )
        gone = await client.post(
            UNSUBSCRIBE_PATH,
            params={"token": links.token(user, address)},
            content="List-Unsubscribe=One-Click",
        )
        assert gone.json()["unsubscribed"] is True
    tab = await tabs.open(context, user)
    page = tab.page
    await tab.open_preferences()
    controls = page.locator("#prefs-email-controls")
    state = page.locator("#prefs-email-state")
    await expect(controls).to_have_attribute("data-state", "off")
    await expect(state).to_contain_text(f"The email digest to {address} was turned off on ")
    await expect(state).to_contain_text("Save turns it back on.")
    await expect(page.locator("#prefs-email-stop")).to_be_hidden()  # no "Turn off" while off
    await expect(page.get_by_label("Email address")).to_have_value(address)
    for scheme in ("light", "dark"):  # to look at: <basetemp>/test_after_*/<size>-<scheme>.png
        await page.emulate_media(color_scheme=scheme)
        await page.locator("#prefs-email").screenshot(
            path=shots.with_name(f"{shots.name}-{scheme}.png")
        )

    # When it went off is not known (turned off before it was recorded): it says it is off.
    await conn.execute(
        "UPDATE email_digest_preferences SET opted_out_at = NULL WHERE user_id = $1", user
    )
    await page.click("#prefs-close")
    await tab.open_preferences()
    await expect(state).to_have_text("The digest is off. Save turns it back on.")

    # Save turns it back on (the address is confirmed: it goes straight back to it).
    await page.click("#prefs-email-save")
    await expect(controls).to_have_attribute("data-state", "confirmed")
    await expect(page.locator("#prefs-email-stop")).to_be_visible()
    stored = await api_get(context, PREFS)
    assert (stored["opted_in"], stored["opted_out_at"]) == (True, None)
