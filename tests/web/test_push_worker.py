"""The push service worker in Chromium: it registers from /sw.js and shows a pushed notification.

No push service is reachable here, so the push is delivered the way DevTools does it:
`ServiceWorker.deliverPushMessage` hands a payload straight to the registered worker's `push`
handler (the encryption on the wire is proven against the stand-in in tests/push).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext

from service.push import keys
from service.settings import Settings

from ..service.live import RunningServer, settings_for
from .conftest import TIMEOUT_MS

PUBLIC, PRIVATE = keys.new_pair()


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(
        database_url,
        vapid_public_key=PUBLIC,
        vapid_private_key=PRIVATE,
        vapid_subject="mailto:ops@vividly.example",
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
