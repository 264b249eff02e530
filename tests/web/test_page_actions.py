"""What a student does on the page in Chromium: open a notification's subject, try again, answer
without losing a word, muted types, the email digest unavailable."""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import BrowserContext, expect

from tests.support.browser import (
    LIVE_MS,
    Tabs,
    notification_ids,
)
from tests.support.server import RunningServer, complete


async def test_a_notification_opens_its_subject_and_try_again_retries(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    failed = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', 'Tides', 'Tides', 'We could not make this video.') RETURNING id",
        user,
    )
    asked = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, clarification_question)"
        " VALUES ($1, 'clarification_needed', 'Explain waves', 'Which grade are you in?')"
        " RETURNING id",
        user,
    )
    await expect(tab.badge).to_have_text("2", timeout=LIVE_MS)
    failed_notice, asked_notice = await notification_ids(conn, user)

    await tab.open_panel()
    await tab.notice(asked_notice).locator(".notice-main").click()
    asked_row = page.locator(f'#requests-list li[data-id="{asked}"]')
    await expect(page.locator("#panel")).to_be_hidden()
    await expect(asked_row.locator("textarea")).to_be_focused()
    await expect(tab.badge).to_have_text("1")

    await tab.open_panel()
    await tab.notice(failed_notice).locator(".notice-main").click()
    row = page.locator(f'#requests-list li[data-id="{failed}"]')
    retry = row.get_by_role("button", name="Try again")
    await expect(retry).to_be_focused()
    await expect(row).to_contain_text("We could not make this video.")
    async with page.expect_response(f"**/content-requests/{failed}/retry") as retried:
        await retry.click()
    assert (await retried.value).ok
    await expect(row).to_have_attribute("data-status", "pending")
    await expect(row.get_by_role("button", name="Try again")).to_have_count(0)
    stored = await conn.fetchrow(
        "SELECT status, error_message FROM content_requests WHERE id = $1", failed
    )
    assert (stored["status"], stored["error_message"]) == ("pending", None)
    await expect(tab.badge).to_be_hidden()


async def test_typed_answers_are_never_lost(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    asked = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, clarification_question)"
        " VALUES ($1, 'clarification_needed', 'Explain waves', 'Which grade are you in?')"
        " RETURNING id",
        user,
    )
    toast = page.locator(f'.toast[data-content-id="{asked}"]')
    await toast.get_by_label("Your answer").fill("Grade 7, and I like dia")
    await page.locator("#ask-question").focus()
    for index in range(5):  # more than the four toasts shown at most
        await complete(conn, user, title=f"Video {index}")
    await expect(page.locator(".toast", has_text="Video 4")).to_be_visible(timeout=LIVE_MS)
    await expect(page.locator(".toast", has_text="Video 0")).to_have_count(0)  # evicted
    await expect(toast.get_by_label("Your answer")).to_have_value("Grade 7, and I like dia")

    await toast.get_by_role("button", name="Close").click()  # closed: the row keeps the text
    row = page.locator(f'#requests-list li[data-id="{asked}"]')
    await expect(row.locator("textarea")).to_have_value("Grade 7, and I like dia")


async def test_a_request_of_a_muted_type_stops_spinning_soon_after_it_finished(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await conn.execute(
        "INSERT INTO notification_preferences (user_id, type, in_app)"
        " VALUES ($1, 'video_complete', false)",
        user,
    )
    request_id = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question)"
        " VALUES ($1, 'processing', 'Why is the sky blue?') RETURNING id",
        user,
    )
    tab = await tabs.open(context, user)
    row = tab.page.locator(f'#requests-list li[data-id="{request_id}"]')
    await expect(row).to_have_attribute("data-status", "processing")
    await conn.execute(
        "UPDATE content_requests SET status = 'completed', video_url = '/media/v.webm'"
        " WHERE id = $1",
        request_id,
    )
    # No notification comes (muted): the row is asked for again within a few seconds.
    await expect(row).to_have_attribute("data-status", "completed", timeout=4500)
    assert await notification_ids(conn, user) == []


async def test_email_digests_say_they_are_not_available_without_smtp(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    # This module's server has no SMTP_HOST: the section says so, and the client's calls get
    # the server's 409 as `unavailable`.
    assert server.settings.smtp_host is None
    page = (await tabs.open(context, uuid.uuid4())).page
    await page.click("#prefs-button")
    await expect(page.locator("#prefs-email-unavailable")).to_have_text(
        "Email digests are not available on this server."
    )
    await expect(page.locator("#prefs-email-controls")).to_be_hidden()
    calls = await page.evaluate(
        """async () => {
          const digest = await import('/client/digest.js');
          const got = await digest.digestPreference();
          const failures = [];
          for (const call of [
            () => digest.setDigest({ email: 'a@example.com', period: 'daily' }),
            () => digest.resendDigestConfirmation(),
          ]) {
            try { await call(); failures.push(null); }
            catch (e) { failures.push([e.name, e.status, e.unavailable, e.detail]); }
          }
          await digest.stopDigest();
          return { available: got.available, email: got.email, failures };
        }"""
    )
    off = "email digests are off on this server (SMTP_HOST is unset)"
    assert calls == {
        "available": False,
        "email": None,
        "failures": [["DigestError", 409, True, off]] * 2,
    }
