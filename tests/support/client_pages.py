"""Shared by the client package's browser tests: pages that load it, tabs, login, API reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from playwright.async_api import BrowserContext, Locator, Page, Request, Route, expect

from tests.support.browser import TIMEOUT_MS

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


async def leader_of(opened: list[Tab]) -> Tab:
    leaders = [tab for tab in opened if await tab.js("client.isLeader")]
    assert len(leaders) == 1, f"{len(leaders)} leaders"
    return leaders[0]


async def _connected_leader(candidates: list[Tab]) -> Tab | None:
    for tab in candidates:
        if await tab.js("client.isLeader && client.status === 'connected'"):
            return tab
    return None
