"""Toasts on a phone (issue 22, defects 1 and 6), at 390x844 with touch.

One compact toast at a time (the newest, with the number of the others), never over the bell or
the Ask button, swiped away with a real touch; a question waiting for an answer stays in front
of newer toasts until it is answered or closed."""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import BrowserContext, Page, expect

from tests.support.browser import LIVE_MS, Tabs
from tests.support.page import overlap
from tests.support.server import complete
from tests.support.touch import swipe

COMPACT_PX = 844 * 0.2  # one toast, at most a fifth of the screen


async def assert_covers_nothing(page: Page) -> None:
    toast = await page.locator(".toast:visible").bounding_box()
    assert toast is not None
    for selector in ("#bell", "#ask-form button[type=submit]"):
        box = await page.locator(selector).bounding_box()
        assert box is not None, selector
        assert not overlap(toast, box), (selector, toast, box)


async def test_a_phone_shows_one_compact_toast_counts_the_others_and_swipes_it_away(
    phone: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    page = (await tabs.open(phone, user)).page
    for index in range(3):
        await complete(conn, user, title=f"Lesson {index}: how plants turn sunlight into food")
    shown = page.locator(".toast:visible")
    await expect(shown).to_contain_text("Lesson 2", timeout=LIVE_MS)
    await expect(shown).to_have_count(1)
    await expect(shown.locator(".toast-count")).to_have_text("+2 more notifications")
    box = await shown.bounding_box()
    assert box is not None
    assert box["height"] <= COMPACT_PX, box
    await assert_covers_nothing(page)

    await swipe(page, box, -box["width"] * 0.6)
    await expect(page.locator(".toast", has_text="Lesson 2")).to_have_count(0)
    await expect(shown).to_have_count(1)
    await expect(shown).to_contain_text("Lesson 1")
    await expect(shown.locator(".toast-count")).to_have_text("+1 more notification")
    await assert_covers_nothing(page)

    box = await shown.bounding_box()
    assert box is not None
    await swipe(page, box, 30)  # too short: a slip of the finger, not a swipe
    await expect(shown).to_contain_text("Lesson 1")
    await swipe(page, box, box["width"] * 0.6)  # to the right, too
    await expect(shown).to_contain_text("Lesson 0")
    await expect(shown.locator(".toast-count")).to_have_count(0)


async def test_a_waiting_question_stays_in_front_of_newer_toasts_until_answered(
    phone: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    page = (await tabs.open(phone, user)).page
    asked = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, clarification_question)"
        " VALUES ($1, 'clarification_needed', 'Explain waves', 'Which grade are you in?')"
        " RETURNING id",
        user,
    )
    question = page.locator(f'.toast[data-content-id="{asked}"]')
    await expect(question).to_be_visible(timeout=LIVE_MS)
    for index in range(4):  # more than the four toasts kept at most
        await complete(conn, user, title=f"Video {index}")
    await expect(page.locator(".toast", has_text="Video 3")).to_have_count(1, timeout=LIVE_MS)
    await expect(question).to_be_visible()  # the question, not the newest video
    shown = page.locator(".toast:visible")
    await expect(shown).to_have_count(1)
    await expect(question.locator(".toast-count")).to_have_text("+4 more notifications")
    await assert_covers_nothing(page)

    await question.get_by_label("Your answer").fill("Grade 7")
    await question.get_by_role("button", name="Send answer").click()
    await expect(question).to_contain_text("Thanks!")
    status = await conn.fetchval("SELECT status FROM content_requests WHERE id = $1", asked)
    assert status == "pending"
    await question.get_by_role("button", name="Close").click()
    await expect(shown).to_contain_text("Video 3")  # now the newest


async def test_a_phone_toast_moves_under_the_header_when_the_ask_button_is_at_the_bottom(
    phone: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    page = (await tabs.open(phone, user)).page
    # The student dragged the question box taller: "Ask" now sits at the bottom of the screen.
    await page.locator("#ask-question").evaluate("box => { box.style.height = '560px'; }")
    ask = await page.locator("#ask-form button[type=submit]").bounding_box()
    assert ask is not None
    assert ask["y"] > 700, ask
    await complete(conn, user, title="Photosynthesis")
    shown = page.locator(".toast:visible")
    await expect(shown).to_contain_text("Photosynthesis", timeout=LIVE_MS)
    await expect(page.locator("#toasts")).to_have_class("toasts toasts-top")
    await assert_covers_nothing(page)
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # Ask scrolled up
    await expect(page.locator("#toasts")).to_have_class("toasts")
    await assert_covers_nothing(page)


async def test_a_swipe_that_starts_on_the_answer_box_never_leaves_the_page(
    phone: BrowserContext, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    """A sideways swipe from a question toast's textarea (a page behind in the history): the
    browser's swipe-back must not take the student away with the typed answer."""
    user = uuid.uuid4()
    page = (await tabs.open(phone, user)).page
    await page.goto("/admin")  # something to go back to
    await page.goto("/")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    url = page.url
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, question, clarification_question)"
        " VALUES ($1, 'clarification_needed', 'Explain waves', 'Which grade are you in?')",
        user,
    )
    answer = page.locator(".toast").get_by_label("Your answer")
    await expect(answer).to_be_visible(timeout=LIVE_MS)
    await answer.fill("Grade 7, and I like dia")
    box = await answer.bounding_box()
    assert box is not None
    for dx in (250, -250):
        await swipe(page, box, dx)
        await page.wait_for_timeout(300)
        assert page.url == url
        await expect(page.locator("#app")).to_be_visible()
        await expect(answer).to_have_value("Grade 7, and I like dia")
