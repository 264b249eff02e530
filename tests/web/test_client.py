"""The client package (`clients/js`, served at `/client/`) in a real browser, server and Postgres.

Pages that use it are served on the server's own origin by the browser context (a route), so the
package is loaded exactly as another page would load it. Tabs of one context are tabs of one
browser profile: they share cookies, Web Locks and BroadcastChannels.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, Request, Route, expect

from tests.support.browser import TIMEOUT_MS
from tests.support.server import RunningServer, complete, open_stream, running_server, settings_for
from tests.support.waiting import until

LIVE_MS = 2500
STREAM = "**/api/v1/notifications/stream*"

CLIENT_PAGE = """<!doctype html>
<meta charset="utf-8"><title>client</title>
<script type="module">
  import { NotificationClient, ApiError } from '/client/index.js';
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const client = new NotificationClient(token ? { getToken: () => token } : {});
  const record = { notifications: [], statuses: [], events: [], ledAt: null };
  client.addEventListener('notification', (e) => record.notifications.push(e.detail.id));
  client.addEventListener('status', (e) => record.statuses.push(e.detail));
  client.addEventListener('leader', (e) => { if (e.detail) record.ledAt = Date.now(); });
  for (const name of ['read_state', 'reset', 'connected', 'auth_expired']) {
    client.addEventListener(name, (e) => record.events.push([name, e.detail]));
  }
  Object.assign(window, { client, record, ApiError });
  client.start();
</script>
"""

ELEMENT_PAGE = """<!doctype html>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>element</title>
<style>body { margin: 0; font-family: sans-serif; }
header { display: flex; align-items: center; justify-content: space-between; padding: 8px 12px; }
</style>
<header><strong>Learning app</strong><notification-center></notification-center></header>
<main><p>Page content.</p></main>
<script type="module">import '/client/element.js';</script>
"""


@dataclass
class Tab:
    """A page plus the uncaught errors and alerts it produced."""

    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    async def js(self, expression: str, arg: Any = None) -> Any:
        return await self.page.evaluate(expression, arg)

    async def wait_for(self, expression: str, timeout: float = TIMEOUT_MS) -> None:
        await self.page.wait_for_function(expression, timeout=timeout)

    # The element's parts (locators pierce its open shadow root).
    @property
    def badge(self) -> Locator:
        return self.page.locator("notification-center .badge")

    @property
    def items(self) -> Locator:
        return self.page.locator("notification-center li.item")

    def item(self, notification_id: int) -> Locator:
        return self.page.locator(f'notification-center li[data-id="{notification_id}"]')

    async def open_panel(self) -> None:
        panel = self.page.locator("notification-center .panel")
        if await panel.is_hidden():
            await self.page.locator("notification-center .bell").click()
        await expect(panel).to_be_visible()


class Tabs(list[Tab]):
    """The tabs a test opened; none may throw or show an alert."""

    async def open(self, context: BrowserContext, path: str = "/client-test.html") -> Tab:
        page = await context.new_page()
        tab = Tab(page)
        page.on("pageerror", lambda error: tab.errors.append(str(error)))

        async def on_dialog(dialog: Any) -> None:
            tab.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        self.append(tab)
        await page.goto(path)
        return tab

    async def client(self, context: BrowserContext, query: str = "") -> Tab:
        """A tab running a bare NotificationClient, once its stream (or its leader's) is up."""
        tab = await self.open(context, f"/client-test.html{query}")
        await tab.wait_for("window.client && client.status === 'connected'")
        return tab

    async def element(self, context: BrowserContext) -> Tab:
        tab = await self.open(context, "/element-test.html")
        await expect(tab.page.locator("notification-center .status")).to_have_attribute(
            "data-state", "connected"
        )
        return tab


async def serve_pages(context: BrowserContext) -> None:
    """Serve the two test pages on the context's origin."""

    async def page(route: Route, body: str) -> None:
        await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

    await context.route("**/client-test.html*", lambda route: page(route, CLIENT_PAGE))
    await context.route("**/element-test.html*", lambda route: page(route, ELEMENT_PAGE))


async def login(context: BrowserContext, user: uuid.UUID) -> None:
    response = await context.request.post("/api/v1/dev/login", data={"user_id": str(user)})
    assert response.ok, await response.text()


async def api_get(context: BrowserContext, path: str) -> Any:
    response = await context.request.get(path)
    assert response.ok, await response.text()
    return await response.json()


async def notification_ids(conn: asyncpg.Connection, user: uuid.UUID) -> list[int]:
    rows = await conn.fetch("SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user)
    return [row["id"] for row in rows]


def stream_requests(context: BrowserContext) -> list[str]:
    """URLs of every request for the stream made in `context` from now on (probes included)."""
    urls: list[str] = []

    def seen(request: Request) -> None:
        if "/api/v1/notifications/stream" in request.url:
            urls.append(request.url)

    context.on("request", seen)
    return urls


@pytest.fixture
async def pages(context: BrowserContext) -> BrowserContext:
    await serve_pages(context)
    return context


@pytest.fixture
async def tabs() -> AsyncIterator[Tabs]:
    opened = Tabs()
    yield opened
    for tab in opened:
        assert tab.errors == [], tab.errors
        assert tab.dialogs == [], tab.dialogs


async def leader_of(opened: list[Tab]) -> Tab:
    leaders = [tab for tab in opened if await tab.js("client.isLeader")]
    assert len(leaders) == 1, f"{len(leaders)} leaders"
    return leaders[0]


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


async def _connected_leader(candidates: list[Tab]) -> Tab | None:
    for tab in candidates:
        if await tab.js("client.isLeader && client.status === 'connected'"):
            return tab
    return None


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


async def test_too_many_places_when_other_devices_hold_every_slot(
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
            # Another device holds the user's only slot.
            async with open_stream(crowded.base_url, crowded.token(user)) as other_device:
                assert other_device.response.status_code == 200
                requests = stream_requests(context)
                leader = await tabs.open(context, "/client-test.html")
                follower = await tabs.open(context, "/client-test.html")
                for tab in (leader, follower):
                    await tab.wait_for(
                        "window.client && client.status === 'too_many_places'", timeout=8000
                    )
                # Then it retries slowly: nothing more for a while (30-60 s).
                asked = len(requests)
                await asyncio.sleep(3)
                assert len(requests) == asked, requests
                assert crowded.hub.stream_count(user) == 1
                statuses = await follower.js("record.statuses")
                assert statuses[-1] == "too_many_places"
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


async def test_without_a_session_the_status_is_auth_expired_and_nothing_retries(
    pages: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    requests = stream_requests(pages)
    tab = await tabs.open(pages, "/client-test.html")
    await tab.wait_for("window.client && client.status === 'auth_expired'")
    assert await tab.js("record.events.map(([name]) => name)") == ["auth_expired"]
    asked = len(requests)  # the EventSource's and the probe that learnt why
    assert asked == 2, requests
    await asyncio.sleep(1.5)
    assert len(requests) == asked


async def test_an_expired_session_stops_every_tab_until_a_new_one(
    pages: BrowserContext, server: RunningServer, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    token = server.token(user, ttl=timedelta(seconds=3))
    await pages.add_cookies([{"name": "access_token", "value": token, "url": server.base_url}])
    leader = await tabs.client(pages)
    follower = await tabs.client(pages)
    for tab in (leader, follower):  # the stream ends with `event: auth_expired`
        await tab.wait_for("client.status === 'auth_expired'", timeout=6000)
        assert await tab.js("record.events.at(-1)") == ["auth_expired", None]
    assert server.hub.stream_count(user) == 0

    await login(pages, user)  # signed in again: a tab that opens brings the stream back
    again = await tabs.client(pages)
    for tab in (leader, follower):
        await tab.wait_for("client.status === 'connected'")
    assert not await again.js("client.isLeader")
    assert server.hub.stream_count(user) == 1


async def test_get_token_sets_the_session_and_bears_rest_calls(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    token = server.token(user)
    authorized: list[str | None] = []
    pages.on(
        "request",
        lambda r: (
            authorized.append(r.headers.get("authorization")) if "/history" in r.url else None
        ),
    )
    tab = await tabs.client(pages, f"?token={token}")  # no cookie yet: getToken brings one
    cookies = await pages.cookies(server.base_url)
    assert [c["value"] for c in cookies if c["name"] == "access_token"] == [token]
    await complete(conn, user)
    (notification_id,) = await notification_ids(conn, user)
    await tab.wait_for(f"record.notifications.includes({notification_id})", timeout=LIVE_MS)

    page = await tab.js("client.history({ limit: 5 })")
    assert [item["id"] for item in page["items"]] == [notification_id]
    assert authorized == [f"Bearer {token}"]
    await tab.js("(id) => client.markRead(id)", notification_id)
    assert (await tab.js("client.unreadCount()"))["unread_count"] == 0
    types = await tab.js("client.types().catch((e) => `${e.status} ${e.message}`)")
    assert isinstance(types, list), types
    assert all(set(t) >= {"name", "label", "description"} for t in types), types
    assert {"video_complete", "video_failed", "clarification_needed"} <= {t["name"] for t in types}


REST_SCRIPT = """
async () => {
  const out = {};
  const fail = async (call) => {
    try { await call(); return 'no error'; }
    catch (e) { return [e instanceof ApiError, e.name, e.status, e.detail, e.message]; }
  };
  out.missing = await fail(() => client.markRead(2147483000));
  out.badId = await fail(() => client.archive(-1));
  out.badQuery = await fail(() => client.history({ limit: 1000 }));
  out.prefs = await client.setPreferences({ video_failed: false });
  out.prefsAgain = await client.preferences();
  const page = await client.history({ limit: 2 });
  out.first = page.items.map((n) => n.id);
  out.next = (await client.history({ limit: 2, before: page.next_before })).items.map((n) => n.id);
  out.unreadOnly = (await client.history({ unreadOnly: true })).items.map((n) => n.id);
  out.read = (await client.markRead(page.items[0].id)).read_at !== null;
  out.unread = (await client.markUnread(page.items[0].id)).read_at;
  out.readAll = await client.markAllRead(page.items[1].id);
  out.archived = (await client.archive(page.items[0].id)).dismissed_at !== null;
  out.withArchived = (await client.history({ includeDismissed: true })).items.length;
  out.clearAll = await client.clearAll();
  out.left = (await client.history()).items.length;
  return out;
}
"""


async def test_rest_calls_and_their_errors(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    for title in ("One", "Two", "Three"):
        await complete(conn, user, title=title)
    one, two, three = await notification_ids(conn, user)
    tab = await tabs.client(pages)
    out = await tab.js(REST_SCRIPT)
    assert out["missing"] == [
        True,
        "ApiError",
        404,
        "notification not found",
        "notification not found",
    ]
    assert out["badId"][:3] == [True, "ApiError", 0]
    assert out["badQuery"][:3] == [True, "ApiError", 422]
    assert isinstance(out["badQuery"][3], list)
    assert "limit" in str(out["badQuery"][3])
    assert out["prefs"]["in_app"]["video_failed"] is False
    assert out["prefsAgain"] == out["prefs"]
    assert (out["first"], out["next"], out["unreadOnly"]) == (
        [three, two],
        [one],
        [three, two, one],
    )
    assert (out["read"], out["unread"]) == (True, None)
    assert out["readAll"] == {"updated": 2, "up_to_id": two, "unread_count": 1}
    assert (out["archived"], out["withArchived"]) == (True, 3)
    assert out["clearAll"] == {"updated": 2, "up_to_id": None, "unread_count": 0}
    assert out["left"] == 0


async def test_the_element_lists_pages_and_changes_the_servers_state(
    pages: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    await login(pages, user)
    for index in range(23):
        await complete(conn, user, title=f"Lesson {index}")
    ids = await notification_ids(conn, user)
    # The first page read; the three oldest, on the page not loaded, still unread.
    await conn.execute("UPDATE notifications SET read_at = now() WHERE id = ANY($1)", ids[3:])
    tab = await tabs.element(pages)
    await expect(tab.badge).to_have_text("3")
    await expect(tab.page.locator("notification-center .bell")).to_have_attribute(
        "aria-label", "Notifications, 3 unread"
    )
    await tab.open_panel()
    await expect(tab.items).to_have_count(20)
    mark_all = tab.page.get_by_role("button", name="Mark all read")
    await expect(mark_all).to_be_enabled()
    await tab.page.locator("notification-center .more").click()
    await expect(tab.items).to_have_count(23)
    await expect(tab.page.locator("notification-center .more")).to_be_hidden()
    shown = await tab.items.evaluate_all("rows => rows.map((r) => Number(r.dataset.id))")
    assert shown == ids[::-1]
    await expect(tab.item(ids[-1]).locator(".title")).to_have_text("Your video is ready")
    await expect(tab.item(ids[-1]).locator(".body")).to_have_text("Lesson 22")

    async with tab.page.expect_response(f"**/notifications/{ids[-1]}"):
        await tab.item(ids[-1]).get_by_role("button", name="Archive").click()
    await expect(tab.items).to_have_count(22)
    history = await api_get(pages, "/api/v1/notifications/history?limit=100")
    assert ids[-1] not in [item["id"] for item in history["items"]]

    async with tab.page.expect_response("**/read-all") as answered:
        await mark_all.click()
    assert (await answered.value).request.post_data_json == {"up_to_id": ids[-2]}
    await expect(tab.badge).to_be_hidden()
    await expect(mark_all).to_be_disabled()
    assert (await api_get(pages, "/api/v1/notifications/unread-count"))["unread_count"] == 0

    await complete(conn, user, title="Late")
    late = (await notification_ids(conn, user))[-1]
    await expect(tab.item(late)).to_have_class(re.compile(r"\bunread\b"), timeout=LIVE_MS)
    await expect(tab.badge).to_have_text("1")
    async with tab.page.expect_response("**/dismiss-all") as cleared:
        await tab.page.get_by_role("button", name="Clear all").click()
    assert (await cleared.value).request.post_data_json == {"up_to_id": late}
    await expect(tab.items).to_have_count(0)
    await expect(tab.page.locator("notification-center .empty")).to_be_visible()
    assert (await api_get(pages, "/api/v1/notifications/history"))["items"] == []

    await tab.page.keyboard.press("Escape")
    await expect(tab.page.locator("notification-center .panel")).to_be_hidden()
    await tab.open_panel()
    await tab.page.locator("main").click()  # outside
    await expect(tab.page.locator("notification-center .panel")).to_be_hidden()


async def test_the_element_shows_markup_as_text_at_phone_width(
    browser: Browser, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    context = await browser.new_context(
        base_url=server.base_url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        await serve_pages(context)
        user = uuid.uuid4()
        await login(context, user)
        title = '<img src=x onerror="window.__xss = 1; alert(1)">'
        error = "<b>bold</b><script>window.__xss = 2</script>" + "x" * 120
        await conn.execute(
            "INSERT INTO content_requests (student_id, status, title, error_message)"
            " VALUES ($1, 'failed', $2, $3)",
            user,
            "A" * 200,
            error,
        )
        tab = await tabs.element(context)
        await complete(conn, user, title=title)
        await expect(tab.badge).to_have_text("2", timeout=LIVE_MS)
        await tab.open_panel()
        video_id = (await notification_ids(conn, user))[-1]
        await expect(tab.item(video_id).locator(".body")).to_have_text(title)
        await expect(tab.page.locator("notification-center .body", has_text=error)).to_have_count(1)
        for tag in ("img", "script", "b"):
            assert await tab.page.locator(f"notification-center .panel {tag}").count() == 0
        assert await tab.js("window.__xss") is None

        widths = await tab.js(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == 390, widths
        box = await tab.page.locator("notification-center .panel").bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= 390, box
        for row in await tab.items.all():
            row_box = await row.bounding_box()
            assert row_box is not None
            assert row_box["x"] + row_box["width"] <= 390, row_box
    finally:
        await context.close()
