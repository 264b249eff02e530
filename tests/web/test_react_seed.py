"""The customer's NotificationCenter.tsx, unchanged, on the package's useNotifications, in Chromium.

`clients/js/build-seed.mjs` (run by `make test`) bundles `../shared/seed-frontend/` as it is
with our hook, a stand-in Button and the real lucide-react and date-fns. The bundle is served on
a second origin; the API allows it in CORS_ORIGINS. The page exchanges a token for the session
cookie (`POST /api/v1/session`, the cross-origin sign-in) and renders the component. What the
component does is checked on the server over REST, with the user's own token.

`SCREENSHOTS=1` also writes the screenshots of the open dropdown into docs/screenshots/.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, ConsoleMessage, Locator, Page, Request, expect
from starlette.applications import Starlette
from starlette.staticfiles import StaticFiles

from service.settings import Settings
from tests.support.browser import TIMEOUT_MS
from tests.support.server import RunningServer, complete, serving, settings_for

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "tests/web/seed_app/dist"
SCREENSHOTS = ROOT / "docs/screenshots"
LIVE_MS = 2000  # a committed completion is in the list within 2 s
NOTIFICATIONS = "/api/v1/notifications"
VIDEO_PAGE = '<!doctype html><link rel="icon" href="data:,"><title>Video</title>'


@dataclass
class AppOrigin:
    """The built test app, served by its own uvicorn on another port (another origin)."""

    url: str


@pytest.fixture(scope="module")
async def seed_app() -> AsyncIterator[AppOrigin]:
    if not (BUNDLE / "app.js").exists():
        pytest.fail(
            f"{BUNDLE} is not built: `make test` builds it "
            "(or `cd clients/js && npm ci && node build-seed.mjs`)"
        )
    app = Starlette(routes=[])
    app.mount("/", StaticFiles(directory=BUNDLE, html=True))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    async with serving(uvicorn.Server(config)) as port:
        yield AppOrigin(f"http://127.0.0.1:{port}")


@pytest.fixture(scope="module")
def server_settings(database_url: str, seed_app: AppOrigin) -> Settings:
    return settings_for(database_url, cors_origins=[seed_app.url])


@dataclass
class SeedPage:
    """The app page, with what it threw or logged as an error."""

    page: Page
    errors: list[str] = field(default_factory=list)

    @property
    def bell(self) -> Locator:
        return self.page.get_by_role("button", name=re.compile(r"^Notifications"))

    @property
    def badge(self) -> Locator:
        return self.bell.locator("span.bg-vividly-red")  # the other span is the status dot

    @property
    def items(self) -> Locator:
        return self.page.locator("ul > li")

    def item(self, title: str) -> Locator:
        return self.items.filter(has_text=title)

    async def open(self) -> None:
        await self.bell.click()
        await expect(self.page.get_by_role("heading", name="Notifications")).to_be_visible()


OpenSeed = Callable[..., Awaitable[SeedPage]]
Rest = Callable[[uuid.UUID], httpx.AsyncClient]


@pytest.fixture
async def open_seed(
    browser: Browser, server: RunningServer, seed_app: AppOrigin
) -> AsyncIterator[OpenSeed]:
    """Opens the app for a user (its own browser profile); afterwards, no page had an error."""
    pages: list[SeedPage] = []

    async def opener(user: uuid.UUID, **viewport: int) -> SeedPage:
        if viewport:
            context = await browser.new_context(
                viewport={"width": viewport["width"], "height": viewport["height"]}
            )
        else:
            context = await browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        seed = SeedPage(await context.new_page())
        pages.append(seed)
        seed.page.on("pageerror", lambda error: seed.errors.append(str(error)))

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                seed.errors.append(message.text)

        seed.page.on("console", on_console)
        query = urlencode({"api": server.base_url, "token": server.token(user)})
        await seed.page.goto(f"{seed_app.url}/?{query}")
        await expect(seed.page.locator('[title="Connected"]')).to_be_attached()
        await expect(seed.page.locator("#hook-state")).to_have_attribute("data-loaded", "true")
        return seed

    yield opener
    for seed in pages:
        state = seed.page.locator("#hook-state")  # gone once the page navigated away
        hook_error = await state.get_attribute("data-error") if await state.count() else None
        await seed.page.context.close()
        assert seed.errors == [], seed.errors
        assert not hook_error, hook_error


@pytest.fixture
async def rest(server: RunningServer) -> AsyncIterator[Rest]:
    """`rest(user)`: an HTTP client of the API acting as `user` (Bearer token), not the page."""
    clients: list[httpx.AsyncClient] = []

    def make(user: uuid.UUID) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            base_url=server.base_url + NOTIFICATIONS,
            headers={"Authorization": f"Bearer {server.token(user)}"},
            timeout=10,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def history(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await api.get("/history", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def answered(request: Request) -> None:
    response = await request.response()
    assert response is not None, "no answer"
    assert response.ok, await response.text()


async def ids_of(conn: asyncpg.Connection, user: uuid.UUID) -> list[int]:
    rows = await conn.fetch("SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user)
    return [row["id"] for row in rows]


async def test_the_customer_component_on_another_origin_changes_the_servers_state(
    open_seed: OpenSeed, rest: Rest, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    api = rest(user)
    await complete(conn, user, title="Photosynthesis")
    await complete(conn, user, title="Gravity")
    photosynthesis, gravity = await ids_of(conn, user)
    assert (await api.post(f"/{photosynthesis}/read")).status_code == 200

    # History appears: both notifications, newest first, one unread.
    seed = await open_seed(user)
    page = seed.page
    await expect(seed.bell).to_have_attribute("aria-label", "Notifications (1 unread)")
    await expect(seed.badge).to_have_text("1")
    await seed.open()
    await expect(seed.items).to_have_count(2)
    await expect(seed.items.first).to_contain_text("Gravity")
    await expect(seed.items.nth(1)).to_contain_text("Photosynthesis")
    await expect(seed.items.first).to_contain_text("ago")  # date-fns read our timestamp

    # A completion committed in Postgres is in the list within 2 s.
    await complete(conn, user, title="Volcanoes")
    volcanoes = (await ids_of(conn, user))[-1]
    await expect(seed.items.first).to_contain_text("Volcanoes", timeout=LIVE_MS)
    await expect(seed.items).to_have_count(3)
    await expect(seed.badge).to_have_text("2")

    # The check button marks that one read on the server.
    async with page.expect_response(f"**{NOTIFICATIONS}/{volcanoes}/read") as marked:
        await seed.item("Volcanoes").get_by_title("Mark as read").click()
    assert (await marked.value).ok
    await expect(seed.badge).to_have_text("1")
    state = await history(api)
    assert state["unread_count"] == 1
    assert {item["id"]: item["read_at"] is not None for item in state["items"]} == {
        volcanoes: True,
        gravity: False,
        photosynthesis: True,
    }

    # Mark all read: up to the newest id on screen, on the server.
    async with page.expect_request(f"**{NOTIFICATIONS}/read-all") as sent:
        await page.get_by_title("Mark all as read").click()
    assert (await sent.value).post_data_json == {"up_to_id": volcanoes}
    await answered(await sent.value)
    await expect(seed.bell).to_have_attribute("aria-label", "Notifications ")
    await expect(seed.badge).not_to_be_attached()
    assert (await history(api))["unread_count"] == 0

    await complete(conn, user, title="Tides")
    tides = (await ids_of(conn, user))[-1]
    await expect(seed.items.first).to_contain_text("Tides", timeout=LIVE_MS)
    await expect(seed.badge).to_have_text("1")

    # The trash button archives everything up to the newest on screen: the server's history
    # is empty, nothing is deleted.
    async with page.expect_request(f"**{NOTIFICATIONS}/dismiss-all") as sent:
        await page.get_by_title("Clear all").click()
    assert (await sent.value).post_data_json == {"up_to_id": tides}
    await answered(await sent.value)
    await expect(page.get_by_text("No notifications yet")).to_be_visible()
    await expect(seed.bell).to_have_attribute("aria-label", "Notifications ")
    state = await history(api)
    assert (state["items"], state["unread_count"]) == ([], 0)
    archived = await history(api, include_dismissed="true")
    assert [item["id"] for item in archived["items"]] == [tides, volcanoes, gravity, photosynthesis]
    assert all(item["dismissed_at"] for item in archived["items"])


async def test_changes_made_elsewhere_reach_the_component(
    open_seed: OpenSeed, rest: Rest, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    api = rest(user)
    for title in ("One", "Two", "Three"):
        await complete(conn, user, title=title)
    one, two, three = await ids_of(conn, user)
    seed = await open_seed(user)
    await seed.open()
    await expect(seed.items).to_have_count(3)
    await expect(seed.badge).to_have_text("3")

    # Another device reads one and archives another: the read_state events update the page.
    assert (await api.post(f"/{two}/read")).status_code == 200
    await expect(seed.badge).to_have_text("2", timeout=LIVE_MS)
    assert (await api.delete(f"/{three}")).status_code == 200
    await expect(seed.items).to_have_count(2, timeout=LIVE_MS)
    await expect(seed.items.first).to_contain_text("Two")
    await expect(seed.badge).to_have_text("1")
    assert (await api.post(f"/{one}/read")).status_code == 200
    await expect(seed.badge).not_to_be_attached(timeout=LIVE_MS)

    # "Watch Now" goes to the video's page on the app's own origin.
    request_id = await complete(conn, user, title="Waves", video_url="/media/videos/w.webm")
    await expect(seed.items.first).to_contain_text("Waves", timeout=LIVE_MS)
    origin = seed.page.url.split("/?")[0]
    # The customer's app has that page; here the test answers for it.
    await seed.page.route(
        f"{origin}/video/*",
        lambda route: route.fulfill(content_type="text/html", body=VIDEO_PAGE),
    )
    await seed.items.first.get_by_role("button", name="Watch Now").click()
    await expect(seed.page).to_have_url(f"{origin}/video/{request_id}")


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1280, "height": 720}), ("phone", {"width": 390, "height": 844})],
)
async def test_screenshot_of_the_open_dropdown(
    open_seed: OpenSeed,
    conn: asyncpg.Connection,
    name: str,
    viewport: dict[str, int],
    tmp_path: Path,
) -> None:
    user = uuid.uuid4()
    await complete(conn, user, title="How do volcanoes form?")
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, title, error_message)"
        " VALUES ($1, 'failed', 'Why is the sky blue?', 'The narration could not be made')",
        user,
    )
    await complete(conn, user, title="Photosynthesis in five minutes")
    await conn.execute(
        "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND id = $2",
        user,
        (await ids_of(conn, user))[0],
    )
    seed = await open_seed(user, **viewport)
    await seed.open()
    await expect(seed.items).to_have_count(3)
    await expect(seed.badge).to_have_text("2")
    target = SCREENSHOTS if os.environ.get("SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    await seed.page.screenshot(path=target / f"seed-notification-center-{name}.png")


async def test_paging_unread_and_archive_beyond_the_contract(
    open_seed: OpenSeed, rest: Rest, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    api = rest(user)
    for number in range(25):
        await complete(conn, user, title=f"Video {number}")
    ids = await ids_of(conn, user)
    seed = await open_seed(user)
    state = seed.page.locator("#hook-state")
    await seed.open()
    await expect(seed.items).to_have_count(20)  # the first page of history
    await expect(state).to_have_attribute("data-has-more", "true")
    await expect(seed.badge).to_have_text("9+")  # the server's count, not the loaded page's
    await seed.page.evaluate("window.hook.loadMore()")
    await expect(seed.items).to_have_count(25)
    await expect(seed.items.last).to_contain_text("Video 0")
    await expect(state).to_have_attribute("data-has-more", "false")

    newest = ids[-1]
    await seed.item("Video 24").get_by_title("Mark as read").click()
    await expect(state).to_have_attribute("data-unread", "24")
    async with seed.page.expect_response(f"**{NOTIFICATIONS}/{newest}/unread") as marked:
        await seed.page.evaluate("window.hook.markAsUnread(window.hook.notifications[0])")
    assert (await marked.value).ok
    await expect(state).to_have_attribute("data-unread", "25")
    assert (await history(api, limit=1))["items"][0]["read_at"] is None

    async with seed.page.expect_response(f"**{NOTIFICATIONS}/{newest}") as archived:
        await seed.page.evaluate("window.hook.archive(window.hook.notifications[0])")
    assert (await archived.value).ok
    await expect(seed.items).to_have_count(24)
    await expect(seed.items.first).to_contain_text("Video 23")
    await expect(state).to_have_attribute("data-unread", "24")
    state_on_server = await history(api, limit=1)
    assert (state_on_server["items"][0]["id"], state_on_server["unread_count"]) == (ids[-2], 24)


async def test_restore_and_snooze_through_the_hook(
    open_seed: OpenSeed, rest: Rest, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    await complete(conn, user, title="Gravity")
    await complete(conn, user, title="Volcanoes")
    volcanoes = (await ids_of(conn, user))[-1]
    seed = await open_seed(user)
    other = (await open_seed(user)).page.locator("#hook-state")  # another device
    state = seed.page.locator("#hook-state")
    await seed.open()
    await expect(seed.items).to_have_count(2)
    async with seed.page.expect_response(f"**{NOTIFICATIONS}/{volcanoes}"):
        await seed.page.evaluate("window.hook.archive(window.kept = window.hook.notifications[0])")
    await expect(seed.items).to_have_count(1)
    await expect(other).to_have_attribute("data-ids", str(volcanoes - 1))
    await seed.page.evaluate("window.hook.restore(window.kept)")  # the Undo
    await expect(seed.items.first).to_contain_text("Volcanoes")
    await expect(state).to_have_attribute("data-unread", "2")
    assert (await history(rest(user)))["unread_count"] == 2
    await expect(other).to_have_attribute("data-ids", f"{volcanoes},{volcanoes - 1}")

    # Snoozed for 2 s: it leaves, then comes back as a new notification, live.
    until = "new Date(Date.now() + 2000)"
    await seed.page.evaluate(f"window.hook.snooze(window.hook.notifications[0], {until})")
    await expect(seed.items).to_have_count(1)
    await expect(state).to_have_attribute("data-unread", "1")
    await expect(seed.items.first).to_contain_text("Volcanoes", timeout=6000)
    await expect(state).to_have_attribute("data-unread", "2")
    back = (await ids_of(conn, user))[-1]
    assert back > volcanoes
    for device in (state, other):
        await expect(device).to_have_attribute("data-ids", f"{back},{volcanoes - 1}")
        await expect(device).to_have_attribute("data-unread", "2")
