"""A rich push in the service worker: what it passes to showNotification, and where each button
leads. Playwright cannot see or click OS notifications, so the worker's own calls are recorded
(`showNotification`, `clients.openWindow`) and a click is a NotificationEvent dispatched in it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import asyncpg
import pytest
from playwright.async_api import BrowserContext, Worker, expect

from service.channels.push import actions
from tests.support.server import RunningServer
from tests.support.waiting import until
from tests.web.test_push_worker import CLICK, granted, server_settings

__all__ = ["granted", "server_settings"]  # the fixtures, shared with test_push_worker

# Records what the worker asks the browser for, then lets the calls through (showNotification)
# or not (openWindow: a window the test would have to close).
RECORD = """() => {
    self.shown = [];
    self.opened = [];
    const show = self.registration.showNotification.bind(self.registration);
    self.registration.showNotification = (title, options) => {
        self.shown.push({title, options: JSON.parse(JSON.stringify(options))});
        return show(title, options);
    };
    self.clients.openWindow = async (url) => { self.opened.push(url); return null; };
}"""

# CLICK with a button: the same event, `action` set as the browser sets it.
CLICK_BUTTON = CLICK.replace("async (tag) =>", "async ([tag, action]) =>").replace(
    "{notification}", "{notification, action}"
)


async def _worker(granted: BrowserContext, server: RunningServer) -> tuple[Worker, uuid.UUID]:
    user = uuid.uuid4()
    response = await granted.request.post("/api/v1/dev/login", data={"user_id": str(user)})
    assert response.ok
    page = await granted.new_page()
    await page.goto("/")
    await page.evaluate("() => navigator.serviceWorker.register('/sw.js')")
    await page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    [worker] = granted.service_workers or [await granted.wait_for_event("serviceworker")]
    await page.close()  # no tab: the worker opens a window itself
    await worker.evaluate(RECORD)
    return worker, user


def _message(server: RunningServer, notification_id: int, type_name: str) -> dict[str, Any]:
    button = {"video_complete": ("watch", "Watch now"), "video_failed": ("retry", "Try again")}
    action, title = button[type_name]
    return {
        "id": notification_id,
        "type": type_name,
        "title": "Your video is ready: Why is the sky blue?",
        "body": "",
        "link": server.base_url + "/media/v.webm",
        "app": server.base_url + "/",
        "timestamp": "2026-11-27T10:00:00Z",
        "lang": "en",
        "icon": server.base_url + "/static/icons/icon-192.png",
        "badge": server.base_url + "/static/icons/badge-96.png",
        "image": server.base_url + "/static/icons/icon-512.png",
        "actions": [{"action": action, "title": title}, {"action": "rm -rf", "title": "Bad"}],
    }


async def _push(worker: Worker, message: dict[str, Any]) -> None:
    """The worker's `push` handler run on `message`, as a push service would deliver it."""
    await worker.evaluate(
        """async (text) => {
            const event = new PushEvent('push', {data: text});
            const waited = [];
            Object.defineProperty(event, 'waitUntil', {value: (promise) => waited.push(promise)});
            self.dispatchEvent(event);
            await Promise.all(waited);
        }""",
        json.dumps(message),
    )


async def test_a_push_is_shown_with_its_icons_image_lang_and_buttons(
    granted: BrowserContext, server: RunningServer
) -> None:
    worker, _user = await _worker(granted, server)
    message = _message(server, 4343, "video_complete")
    await _push(worker, {**message, "icon": "javascript:alert(1)", "lang": "<x>"})
    await _push(worker, message)
    [bad, good] = await worker.evaluate("() => self.shown")
    assert "icon" not in bad["options"]  # not a web URL: left out, the rest still shown
    assert "lang" not in bad["options"]
    assert good["title"] == "Your video is ready: Why is the sky blue?"
    options = good["options"]
    assert options["tag"] == "vividly-4343"
    assert options["icon"] == message["icon"]
    assert options["badge"] == message["badge"]
    assert options["image"] == message["image"]
    assert options["lang"] == "en"
    assert options["actions"] == [{"action": "watch", "title": "Watch now"}]  # known ones only
    shown = await worker.evaluate(
        """async () => (await self.registration.getNotifications({tag: 'vividly-4343'}))
            .map((n) => ({icon: n.icon, badge: n.badge, lang: n.lang,
                actions: n.actions.map((a) => [a.action, a.title])}))"""
    )
    assert shown == [
        {
            "icon": message["icon"],
            "badge": message["badge"],
            "lang": "en",
            "actions": [["watch", "Watch now"]],
        }
    ]


@pytest.mark.parametrize(
    ("type_name", "action", "opens"),
    [
        ("video_complete", "watch", "/videos/{id}"),  # Watch now: the video, in the app's player
        # Try again: the request's own page, its button to be focused (never pressed for them)
        ("video_failed", "retry", "/requests/{id}?action=retry"),
        ("video_failed", "", "/requests/{id}"),  # the notification itself: its link
    ],
)
async def test_a_button_opens_its_target_and_reports_the_click(
    granted: BrowserContext,
    server: RunningServer,
    conn: asyncpg.Connection,
    type_name: str,
    action: str,
    opens: str,
) -> None:
    worker, user = await _worker(granted, server)
    content_id = uuid.uuid4()
    notification_id: int = await conn.fetchval(
        "INSERT INTO notifications (user_id, type, payload) VALUES ($1, $2, $3) RETURNING id",
        user,
        type_name,
        {"content_id": str(content_id)},
    )
    token = actions.token(
        actions.key_for(server.settings), notification_id, user, int(time.time()) + 600
    )
    page = "videos" if type_name == "video_complete" else "requests"
    link = f"{server.base_url}/{page}/{content_id}"
    message = {**_message(server, notification_id, type_name), "link": link, "action": token}
    await _push(worker, message)
    await worker.evaluate(CLICK_BUTTON, [f"vividly-{notification_id}", action])
    assert await worker.evaluate("() => self.opened") == [
        server.base_url + opens.format(id=content_id)
    ]

    async def marked() -> bool:
        row = await conn.fetchrow(
            "SELECT read_at, opened_at FROM notifications WHERE id = $1", notification_id
        )
        return row["read_at"] is not None and row["opened_at"] is not None

    await until(marked, "the click is still reported opened and read")


async def test_try_again_with_a_tab_open_shows_the_request_there_with_its_button_focused(
    granted: BrowserContext, server: RunningServer, conn: asyncpg.Connection
) -> None:
    worker, user = await _worker(granted, server)
    failed = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', 'Tides', 'Tides', 'We could not make this video.') RETURNING id",
        user,
    )
    notification_id: int = await conn.fetchval(
        "SELECT id FROM notifications WHERE user_id = $1", user
    )
    tab = await granted.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    await tab.goto("/")
    await expect(tab.locator("#connection")).to_have_attribute("data-state", "connected")
    link = f"{server.base_url}/requests/{failed}"
    await _push(worker, {**_message(server, notification_id, "video_failed"), "link": link})
    await worker.evaluate(CLICK_BUTTON, [f"vividly-{notification_id}", "retry"])
    # The open tab showed it in-app (no reload, no new window) and answered so.
    assert await worker.evaluate("() => self.opened") == []
    await expect(tab).to_have_url(f"{link}?action=retry")
    row = tab.locator(f'#requests-list li[data-id="{failed}"]')
    await expect(row.get_by_role("button", name="Try again")).to_be_focused()
    await expect(tab.locator("#ask-card")).to_be_hidden()  # the request on its own
    status = await conn.fetchval("SELECT status FROM content_requests WHERE id = $1", failed)
    assert status == "failed"  # focused, never pressed for the student
    assert errors == []
