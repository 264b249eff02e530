"""The client package in Chromium across tabs: one stream per browser, hand-over, read state,
newer devices taking the stream's place, resuming after the last id, no Web Locks."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import asyncpg
from playwright.async_api import Browser, BrowserContext, Route, expect

from tests.support.browser import TIMEOUT_MS
from tests.support.client_pages import (
    LIVE_MS,
    STREAM,
    Tabs,
    _connected_leader,
    api_get,
    leader_of,
    login,
    notification_ids,
    serve_pages,
    stream_requests,
)
from tests.support.server import RunningServer, complete, open_stream, running_server, settings_for
from tests.support.waiting import until


async def test_five_tabs_share_one_stream(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    requests = stream_requests(pages)
    opened = [await tabs.client(pages) for _ in range(5)]

    assert server.hub.stream_count(user) == 1
    await leader_of(opened)
    metrics = await (await pages.request.get("/metrics")).text()
    assert re.search(r"^vividly_streams_open 1(\.0)?$", metrics, re.MULTILINE), metrics
    assert len(requests) == 1, requests

    await complete(conn, user, title="For every tab")
    (notification_id,) = await notification_ids(conn, user)
    for tab in opened:
        await tab.wait_for(
            f"record.notifications.length === 1 && client.lastEventId === {notification_id}"
        )
    for tab in opened:
        assert await tab.js("record.notifications") == [notification_id]
    assert server.hub.stream_count(user) == 1
    assert len(requests) == 1, requests


async def test_closing_the_leader_hands_the_stream_over_without_a_gap(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    opened = [await tabs.client(pages) for _ in range(3)]
    leader = await leader_of(opened)
    followers = [tab for tab in opened if tab is not leader]
    await complete(conn, user, title="Before")
    (before,) = await notification_ids(conn, user)
    for tab in opened:
        await tab.wait_for(f"record.notifications.includes({before})")

    # Whichever tab takes over: before its stream reaches the server, a notification commits
    # that no tab has a stream for. Only the cursor passed on can bring it.
    resumed: list[str] = []
    committed = asyncio.Event()

    async def commit_first(route: Route) -> None:
        if not resumed:
            resumed.append(route.request.url)
            await complete(conn, user, title="During the handover")
            committed.set()
        await route.fallback()

    await pages.route(STREAM, commit_first)
    closed_at, started = time.time() * 1000, time.monotonic()
    await leader.page.close()
    await asyncio.wait_for(committed.wait(), 3)
    during = (await notification_ids(conn, user))[-1]
    new_leader = await until(
        lambda: _connected_leader(followers), "a follower leads a connected stream", timeout=3
    )
    assert time.monotonic() - started < 3, "connected again within 3 s"
    assert new_leader is not None
    assert await new_leader.js("record.ledAt") - closed_at < 1000, "led at once"
    assert resumed == [f"{server.base_url}/api/v1/notifications/stream?last_event_id={before}"]

    await complete(conn, user, title="After")
    after = (await notification_ids(conn, user))[-1]
    for tab in followers:
        await tab.wait_for(f"record.notifications.includes({after})", timeout=LIVE_MS)
        assert await tab.js("record.notifications") == [before, during, after]
    await until(lambda: server.hub.stream_count(user) == 1, "the old leader's stream is gone")


async def test_a_read_in_one_tab_updates_the_others(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    first = await tabs.element(pages)
    second = await tabs.element(pages)
    await complete(conn, user, title="Older")
    await complete(conn, user, title="Newer")
    older, newer = await notification_ids(conn, user)
    for tab in (first, second):
        await expect(tab.badge).to_have_text("2", timeout=LIVE_MS)

    for reader, other in ((first, second), (second, first)):  # the leader's and a follower's
        await reader.open_panel()
        await reader.item(newer).get_by_role("button", name="Mark as read").click()
        await expect(reader.badge).to_have_text("1")
        await expect(other.badge).to_have_text("1", timeout=LIVE_MS)
        await other.open_panel()
        await expect(other.item(newer)).not_to_have_class(re.compile(r"\bunread\b"))
        await expect(other.item(older)).to_have_class(re.compile(r"\bunread\b"))
        await other.item(newer).get_by_role("button", name="Mark as unread").click()
        await expect(reader.badge).to_have_text("2", timeout=LIVE_MS)
        await expect(reader.item(newer)).to_have_class(re.compile(r"\bunread\b"))
    assert (await api_get(pages, "/api/v1/notifications/unread-count"))["unread_count"] == 2


async def test_past_the_limit_a_newer_device_pauses_this_browser_until_asked(
    browser: Browser, database_url: str, tabs: Tabs
) -> None:
    settings = settings_for(database_url, max_streams_per_user=1, unlisten_delay_seconds=0.2)
    async with running_server(settings) as crowded:
        context = await browser.new_context(base_url=crowded.base_url)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            await serve_pages(context)
            user = uuid.uuid4()
            await login(context, user)
            # Another device holds the user's only slot: this browser, newer, takes it.
            async with open_stream(crowded.base_url, crowded.token(user)) as other_device:
                assert (await other_device.next()).event == "connected"
                leader = await tabs.open(context, "/client-test.html")
                follower = await tabs.open(context, "/client-test.html")
                assert (await other_device.next()).event == "displaced"
                for tab in (leader, follower):
                    await tab.wait_for("client.status === 'connected'")
            # A newer device again: both tabs pause, and nothing is retried by itself.
            requests = stream_requests(context)
            async with open_stream(crowded.base_url, crowded.token(user)) as newer:
                assert (await newer.next()).event == "connected"
                for tab in (leader, follower):
                    await tab.wait_for("client.status === 'paused'")
                await asyncio.sleep(3)
                assert requests == [], requests
                assert crowded.hub.stream_count(user) == 1
                # Resume, asked in the tab that does not hold the stream.
                leading = leader if await leader.js("client.isLeader") else follower
                other = follower if leading is leader else leader
                await other.js("client.retryNow()")
                for tab in (leader, follower):
                    await tab.wait_for("client.status === 'connected'")
                assert (await newer.next()).event == "displaced"
                assert len(requests) == 1, requests
            statuses = await follower.js("record.statuses")
            assert "too_many_places" not in statuses
            assert "auth_expired" not in statuses
        finally:
            await context.close()


async def test_a_dropped_stream_resumes_after_the_last_id(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    tab = await tabs.client(pages)
    follower = await tabs.client(pages)
    await complete(conn, user, title="Before")
    (before,) = await notification_ids(conn, user)
    await tab.wait_for(f"client.lastEventId === {before}")

    async def refuse(route: Route) -> None:
        await route.abort()

    await pages.route(STREAM, refuse)
    assert server.hub.close_user(user, "max_age") == 1
    await tab.wait_for("client.status === 'reconnecting'")
    await follower.wait_for("client.status === 'reconnecting'")
    await complete(conn, user, title="Missed")
    missed = (await notification_ids(conn, user))[-1]
    async with tab.page.expect_request(STREAM) as again:
        await pages.unroute(STREAM, refuse)
    assert (await again.value).url.endswith(f"/stream?last_event_id={before}")
    for each in (tab, follower):
        await each.wait_for(f"record.notifications.includes({missed})", timeout=LIVE_MS)
        assert await each.js("record.notifications") == [before, missed]
        events = await each.js("record.events.filter(([name]) => name === 'connected')")
        assert events[-1] == ["connected", {"resumed": True}]


async def test_without_web_locks_every_tab_has_its_own_stream(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    await pages.add_init_script("delete Navigator.prototype.locks")
    user = uuid.uuid4()
    await login(pages, user)
    first = await tabs.client(pages)
    second = await tabs.client(pages)
    assert server.hub.stream_count(user) == 2
    assert [await first.js("client.isLeader"), await second.js("client.isLeader")] == [True, True]
    await complete(conn, user)
    (notification_id,) = await notification_ids(conn, user)
    for tab in (first, second):
        await tab.wait_for("record.notifications.length === 1", timeout=LIVE_MS)
        assert await tab.js("record.notifications") == [notification_id]
