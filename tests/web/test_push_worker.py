"""The push service worker in Chromium: it registers from /sw.js and shows a pushed notification.

No push service is reachable here, so the push is delivered the way DevTools does it:
`ServiceWorker.deliverPushMessage` hands a payload straight to the registered worker's `push`
handler (the encryption on the wire is proven against the stand-in in tests/channels/push).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Worker

from service.channels.push import actions, keys
from service.settings import Settings
from tests.support.browser import TIMEOUT_MS
from tests.support.server import RunningServer, settings_for
from tests.support.waiting import until

PUBLIC, PRIVATE = keys.new_pair()


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(
        database_url,
        vapid_public_key=PUBLIC,
        vapid_private_key=PRIVATE,
        vapid_subject="mailto:ops@vividly.example",
        public_url="https://notify.example",
    )


@pytest.fixture
async def granted(browser: Browser, server: RunningServer) -> AsyncIterator[BrowserContext]:
    created = await browser.new_context(base_url=server.base_url, permissions=["notifications"])
    created.set_default_timeout(TIMEOUT_MS)
    yield created
    await created.close()


async def test_worker_shows_a_pushed_notification(
    granted: BrowserContext, server: RunningServer
) -> None:
    response = await granted.request.post("/api/v1/dev/login", data={"user_id": str(uuid.uuid4())})
    assert response.ok
    page = await granted.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto("/")
    cdp = await granted.new_cdp_session(page)
    registrations: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def updated(event: dict[str, Any]) -> None:
        for found in event["registrations"]:
            registrations.put_nowait(found)

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    await cdp.send("ServiceWorker.enable")
    scope = await page.evaluate(
        """async () => {
            await navigator.serviceWorker.register('/sw.js');
            return (await navigator.serviceWorker.ready).scope;
        }"""
    )
    assert scope == server.base_url + "/"
    while True:
        registration = await asyncio.wait_for(registrations.get(), 5)
        if registration["scopeURL"] == scope and not registration["isDeleted"]:
            break
    message = {
        "id": 4242,
        "type": "video_complete",
        "title": "Your video is ready",
        "body": "Photosynthesis",
        "link": server.base_url + "/media/v.webm",
        "timestamp": "2026-11-27T10:00:00Z",
    }
    for _ in range(2):  # a repeat (a retried push) replaces the notification, never adds one
        await cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": server.base_url,
                "registrationId": registration["registrationId"],
                "data": json.dumps(message),
            },
        )
    shown = await page.wait_for_function(
        """async () => {
            const registration = await navigator.serviceWorker.ready;
            const found = await registration.getNotifications({tag: 'vividly-4242'});
            return found.length ? found.map((n) => ({
                title: n.title, body: n.body, tag: n.tag, data: n.data,
            })) : null;
        }""",
        polling=100,
    )
    notifications = await shown.json_value()
    assert len(notifications) == 1
    [notification] = notifications
    assert notification["title"] == "Your video is ready"
    assert notification["body"] == "Photosynthesis"
    assert notification["data"]["link"] == message["link"]
    assert notification["data"]["message"]["id"] == 4242
    assert errors == []


# A click on a shown notification, dispatched inside the worker: Playwright cannot click OS
# notifications, so the test builds a NotificationEvent for the real Notification in the worker
# (synthetic events refuse `waitUntil`, so it collects the promises instead).
CLICK = """async (tag) => {
    const [notification] = await self.registration.getNotifications({tag});
    if (!notification) throw new Error('no notification ' + tag);
    const event = new NotificationEvent('notificationclick', {notification});
    const waited = [];
    Object.defineProperty(event, 'waitUntil', {value: (promise) => waited.push(promise)});
    self.dispatchEvent(event);
    const results = await Promise.allSettled(waited);
    return results.map((result) => result.status + ':' + (result.reason || ''));
}"""


async def _shown(
    granted: BrowserContext, server: RunningServer, conn: asyncpg.Connection, *, valid: int = 600
) -> tuple[Page, Worker, int, uuid.UUID, list[str]]:
    """A logged-in page of the app, its worker, and a shown push of a notification in its list
    (its action token valid `valid` seconds more)."""
    user = uuid.uuid4()
    response = await granted.request.post("/api/v1/dev/login", data={"user_id": str(user)})
    assert response.ok
    notification_id: int = await conn.fetchval(
        "INSERT INTO notifications (user_id, type, payload) VALUES ($1, 'video_complete', $2)"
        " RETURNING id",
        user,
        {"content_id": str(uuid.uuid4()), "title": "Photosynthesis", "video_url": "/media/v.webm"},
    )
    page = await granted.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto("/")
    await page.wait_for_selector(f"[data-id='{notification_id}']", state="attached")
    await page.evaluate("() => navigator.serviceWorker.register('/sw.js')")
    await page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    [worker] = granted.service_workers or [await granted.wait_for_event("serviceworker")]
    token = actions.token(
        actions.key_for(server.settings), notification_id, user, int(time.time()) + valid
    )
    message = {
        "id": notification_id,
        "type": "video_complete",
        "title": "Your video is ready",
        "body": "Photosynthesis",
        "link": server.base_url + "/media/v.webm",
        "timestamp": "2026-11-27T10:00:00Z",
        "action": token,
    }
    await worker.evaluate(
        """async (message) => self.registration.showNotification(message.title, {
            tag: 'vividly-' + message.id, data: {message, link: message.link},
        })""",
        message,
    )
    return page, worker, notification_id, user, errors


async def test_a_click_is_opened_by_the_open_tab(
    granted: BrowserContext, server: RunningServer, conn: asyncpg.Connection
) -> None:
    page, worker, notification_id, _user, errors = await _shown(granted, server, conn)
    outcomes = await worker.evaluate(CLICK, f"vividly-{notification_id}")
    # Focusing needs a real click's user activation: only that may be refused here.
    assert all(o.startswith("fulfilled") or "focus" in o for o in outcomes), outcomes
    await page.wait_for_selector("#player[open]")  # the tab answered, and opened the video
    assert errors == []


async def test_a_click_marks_it_read_and_opened_with_its_token_alone(
    granted: BrowserContext, server: RunningServer, conn: asyncpg.Connection
) -> None:
    page, worker, notification_id, _user, _errors = await _shown(granted, server, conn)
    await page.close()  # no tab: the worker alone reports the click...
    await granted.clear_cookies()  # ... and with no session (it expired hours ago)
    await worker.evaluate(CLICK, f"vividly-{notification_id}")

    async def marked() -> bool:
        row = await conn.fetchrow(
            "SELECT read_at, opened_at FROM notifications WHERE id = $1", notification_id
        )
        return row["read_at"] is not None and row["opened_at"] is not None

    await until(marked, "the click is recorded")


async def test_a_click_with_an_expired_token_falls_back_to_the_session(
    granted: BrowserContext, server: RunningServer, conn: asyncpg.Connection
) -> None:
    # The OS kept the notification past PUSH_TTL: its token is refused (403), the cookie is not.
    page, worker, notification_id, _user, _errors = await _shown(granted, server, conn, valid=-60)
    await page.close()
    await worker.evaluate(CLICK, f"vividly-{notification_id}")

    async def marked() -> bool:
        row = await conn.fetchrow(
            "SELECT read_at, opened_at FROM notifications WHERE id = $1", notification_id
        )
        return row["read_at"] is not None and row["opened_at"] is not None

    await until(marked, "the click is recorded with the session cookie")
