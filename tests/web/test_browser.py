"""The web notification center in a real browser against a real server and Postgres.

Notifications are made the way production makes them: a committed `content_requests` write
fires the trigger. Every wait is on a condition (`expect`, a response), never a sleep.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from playwright.async_api import BrowserContext, Route, expect

from tests.support.browser import (
    LIVE_MS,
    UNREAD,
    Tabs,
    api_get,
    new_tab,
    notification_ids,
    open_app,
)
from tests.support.server import RunningServer, complete


async def test_login_with_the_dev_form_and_logout(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    tab = await new_tab(context)
    tabs.append(tab)
    page = tab.page
    await page.goto("/")
    await expect(page.locator("#login")).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()

    await page.fill("#login-user", "not a user id")  # a space: neither a UUID nor a name
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#login-error")).to_contain_text("UUID")

    await page.click("#login-random")
    random_id = await page.input_value("#login-user")
    assert uuid.UUID(random_id).version == 4

    user = uuid.uuid4()
    await page.fill("#login-user", str(user))
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.locator("#login")).to_be_hidden()
    await expect(page.locator("#whoami")).to_have_text(f"{str(user)[:8]}…")  # no name: its start
    await expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    assert (await api_get(context, "/api/v1/me"))["user_id"] == str(user)

    await page.click("#logout")
    await expect(page.locator("#login")).to_be_visible()
    assert (await context.request.get("/api/v1/me")).status == 401


async def test_a_committed_completion_shows_a_toast_and_counts(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    await expect(tab.badge).to_be_hidden()

    await complete(conn, user, title="Photosynthesis")
    toast = tab.page.locator(".toast", has_text="Photosynthesis")
    await expect(toast).to_be_visible(timeout=LIVE_MS)
    await expect(toast).to_contain_text("Your video is ready")
    await expect(tab.badge).to_have_text("1", timeout=LIVE_MS)
    await expect(tab.page.locator("#bell")).to_have_attribute(
        "aria-label", "Notifications, 1 unread"
    )

    await complete(conn, user, title="Gravity")
    await expect(tab.badge).to_have_text("2", timeout=LIVE_MS)
    await tab.open_panel()
    await expect(tab.page.locator("#panel-list li")).to_have_count(2)
    await expect(tab.page.locator("#panel-list li").first).to_contain_text("Gravity")


async def test_watch_now_plays_the_video_and_marks_it_read(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    video_url, thumbnail_url = "/media/videos/abc-1.webm", "/media/thumbnails/abc-1.svg"
    await complete(conn, user, title="Volcanoes", video_url=video_url, thumbnail_url=thumbnail_url)
    (notification_id,) = await notification_ids(conn, user)
    await expect(tab.badge).to_have_text("1", timeout=LIVE_MS)

    watch = page.locator(".toast", has_text="Volcanoes").get_by_role("button", name="Watch now")
    async with page.expect_response(
        lambda r: r.url.endswith(f"/notifications/{notification_id}/read")
    ) as marked:
        await watch.click()
    assert (await marked.value).ok

    await expect(page.locator("#player")).to_be_visible()
    await expect(page.locator("#player-title")).to_have_text("Volcanoes")
    video = page.locator("#player-video")
    await expect(video).to_have_attribute("src", server.base_url + video_url)
    await expect(video).to_have_attribute("poster", server.base_url + thumbnail_url)
    await expect(tab.badge).to_be_hidden()

    history = await api_get(context, "/api/v1/notifications/history")
    assert history["unread_count"] == 0
    assert history["items"][0]["id"] == notification_id
    assert history["items"][0]["read_at"] is not None

    await page.keyboard.press("Escape")
    await expect(page.locator("#player")).to_be_hidden()
    await expect(video).not_to_have_attribute("src", re.compile(".*"))


async def test_reading_in_another_tab_updates_this_tab(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    first = await open_app(context, user)
    second = await new_tab(context)  # same profile, same cookie: another tab of the user
    tabs.extend([first, second])
    await second.page.goto("/")
    await expect(second.page.locator("#connection")).to_have_attribute("data-state", "connected")

    await complete(conn, user, title="Older")
    await complete(conn, user, title="Newer")
    older, newer = await notification_ids(conn, user)
    for tab in (first, second):
        await expect(tab.badge).to_have_text("2", timeout=LIVE_MS)

    await second.open_panel()
    await second.notice(newer).locator(".notice-main").click()
    await expect(second.badge).to_have_text("1")
    await expect(first.badge).to_have_text("1", timeout=LIVE_MS)  # by the read_state event

    await first.open_panel()
    await expect(first.notice(newer)).not_to_have_class(UNREAD)
    await expect(first.notice(older)).to_have_class(UNREAD)


async def test_mark_all_read_spares_one_that_arrives_meanwhile(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    for title in ("One", "Two", "Three"):
        await complete(conn, user, title=title)
    await expect(tab.badge).to_have_text("3", timeout=LIVE_MS)
    newest_seen = (await notification_ids(conn, user))[-1]
    await tab.open_panel()
    await expect(tab.page.locator("#panel-list li")).to_have_count(3)

    sent: list[Any] = []

    async def late_arrival(route: Route) -> None:
        # The click has happened; a notification commits before the request reaches the server.
        sent.append(route.request.post_data_json)
        await complete(conn, user, title="Late")
        await route.continue_()

    await tab.page.route("**/api/v1/notifications/read-all", late_arrival)
    async with tab.page.expect_response("**/api/v1/notifications/read-all") as answered:
        await tab.page.click("#panel-mark-all")
    assert (await answered.value).ok
    assert sent == [{"up_to_id": newest_seen}]

    late = (await notification_ids(conn, user))[-1]
    await expect(tab.notice(late)).to_have_class(UNREAD, timeout=LIVE_MS)
    await expect(tab.badge).to_have_text("1", timeout=LIVE_MS)
    for notification_id in (await notification_ids(conn, user))[:-1]:
        await expect(tab.notice(notification_id)).not_to_have_class(UNREAD)
    history = await api_get(context, "/api/v1/notifications/history")
    assert history["unread_count"] == 1
    assert [item["id"] for item in history["items"] if item["read_at"] is None] == [late]


async def test_failed_and_clarification_notifications_render_their_text(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, title, error_message)"
        " VALUES ($1, 'failed', 'Tides', 'The narrator lost their voice')",
        user,
    )
    request_id = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, clarification_question)"
        " VALUES ($1, 'clarification_needed', 'Explain waves', 'Which grade are you in?')"
        " RETURNING id",
        user,
    )
    failed = page.locator(".toast", has_text="The narrator lost their voice")
    await expect(failed).to_be_visible(timeout=LIVE_MS)
    await expect(failed).to_contain_text("Tides")
    asked = page.locator(f'.toast[data-content-id="{request_id}"]')
    await expect(asked).to_be_visible(timeout=LIVE_MS)
    await expect(asked).to_contain_text("Which grade are you in?")
    await expect(tab.badge).to_have_text("2", timeout=LIVE_MS)

    await tab.open_panel()
    await expect(page.locator("#panel-list li")).to_have_count(2)
    await expect(page.locator("#panel-list")).to_contain_text("The narrator lost their voice")
    await expect(page.locator("#panel-list")).to_contain_text("Which grade are you in?")
    await page.click("#panel-close")

    # The request waits for an answer in "My requests" too; answer it from the toast.
    row = page.locator(f'#requests-list li[data-id="{request_id}"]')
    await expect(row).to_have_attribute("data-status", "clarification_needed")
    await expect(row).to_contain_text("Which grade are you in?")
    await asked.get_by_label("Your answer").fill("Grade 7")
    async with page.expect_response(f"**/content-requests/{request_id}/clarification") as sent:
        await asked.get_by_role("button", name="Send answer").click()
    assert (await sent.value).ok
    await expect(asked).to_contain_text("Thanks")
    await expect(row).to_have_attribute("data-status", "pending")
    await expect(tab.badge).to_have_text("1", timeout=LIVE_MS)  # the question counts as read
    stored = await conn.fetchrow(
        "SELECT status, clarification_answer FROM content_requests WHERE id = $1", request_id
    )
    assert (stored["status"], stored["clarification_answer"]) == ("pending", "Grade 7")


async def test_asking_a_question_lists_it_as_pending(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    await expect(page.locator("#requests-empty")).to_be_visible()
    question = "Why do <b>cats</b> purr?"
    await page.fill("#ask-question", question)
    async with page.expect_response("**/api/v1/content-requests") as created:
        await page.get_by_role("button", name="Ask").click()
    assert (await created.value).status == 201
    request_id = (await (await created.value).json())["id"]
    row = page.locator(f'#requests-list li[data-id="{request_id}"]')
    await expect(row).to_have_attribute("data-status", "pending")
    await expect(row.locator(".request-question")).to_have_text(question)
    await expect(row.locator(".status .spinner")).to_have_count(1)
    await expect(page.locator("#ask-question")).to_have_value("")
    stored = await conn.fetchrow(
        "SELECT student_id, status, question FROM content_requests WHERE id = $1",
        uuid.UUID(request_id),
    )
    assert (stored["student_id"], stored["status"], stored["question"]) == (
        user,
        "pending",
        question,
    )

    # A worker's final UPDATE reaches the row through its notification.
    await conn.execute(
        "UPDATE content_requests SET status = 'completed', title = 'Purring',"
        " video_url = '/media/videos/p.webm' WHERE id = $1",
        uuid.UUID(request_id),
    )
    await expect(row).to_have_attribute("data-status", "completed", timeout=LIVE_MS)
    await expect(row.get_by_role("button", name="Watch")).to_be_visible()


async def test_preferences_are_saved(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    tab = await tabs.open(context, uuid.uuid4())
    page = tab.page
    await page.click("#prefs-button")
    box = page.get_by_label("A video could not be made")
    await expect(box).to_be_checked()
    await expect(box).to_be_enabled()
    async with page.expect_response("**/api/v1/notifications/preferences") as saved:
        await box.uncheck()
    assert (await saved.value).ok
    await expect(page.locator("#prefs-saved")).to_have_text("Saved.")
    preferences = await api_get(context, "/api/v1/notifications/preferences")
    assert preferences["in_app"] == {
        "video_complete": True,
        "video_failed": False,
        "clarification_needed": True,
    }


async def test_an_expired_session_returns_to_the_login_form(
    context: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    # Long enough for the page to start on a loaded machine (2 s was not, at a load of 9).
    token = server.token(uuid.uuid4(), ttl=timedelta(seconds=6))
    await context.add_cookies([{"name": "access_token", "value": token, "url": server.base_url}])
    tab = await new_tab(context)
    tabs.append(tab)
    await tab.page.goto("/")
    await expect(tab.page.locator("#app")).to_be_visible()
    # The stream ends with `auth_expired` when the token does.
    await expect(tab.page.locator("#login")).to_be_visible(timeout=12000)
    await expect(tab.page.locator("#login-message")).to_contain_text("session has ended")


async def test_a_dropped_stream_resumes_after_the_last_id_without_duplicates(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    await complete(conn, user, title="Before")
    await expect(tab.badge).to_have_text("1", timeout=LIVE_MS)
    (before,) = await notification_ids(conn, user)

    async def refuse(route: Route) -> None:
        await route.abort()

    # The server ends the stream (as at its maximum age) and the network refuses new ones.
    await page.route("**/api/v1/notifications/stream*", refuse)
    assert server.hub.close_user(user, "max_age") == 1
    await expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    await complete(conn, user, title="Missed")

    async with page.expect_request("**/api/v1/notifications/stream*") as resumed:
        await page.unroute("**/api/v1/notifications/stream*", refuse)
    assert (await resumed.value).url.endswith(f"/stream?last_event_id={before}")
    await expect(page.locator("#connection")).to_have_attribute(
        "data-state", "connected", timeout=LIVE_MS
    )
    await expect(page.locator(".toast", has_text="Missed")).to_have_count(1, timeout=LIVE_MS)
    await expect(tab.badge).to_have_text("2")
    await tab.open_panel()
    await expect(page.locator("#panel-list li")).to_have_count(2)
