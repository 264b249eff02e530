"""An address that is no page (issue 23's review), on a real server: a browser gets a small page
in the app's look with a link to the app (rendered in Chromium, under the page's CSP), clients
and the API keep the JSON 404; `/favicon.ico` is the app's icon.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import httpx
import pytest
from playwright.async_api import BrowserContext, expect

from service.http.headers import CONTENT_SECURITY_POLICY
from tests.support.browser import Tabs, new_tab
from tests.support.page import Trouble, shot
from tests.support.server import RunningServer, running_server, settings_for

NEAR_MISSES = ["/requests/", "/videos/", "/preferences/x", "/nothing-here", "/static/nope.html"]
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # a browser's


@pytest.fixture(scope="module")
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with running_server(settings_for(database_url)) as running:
        yield running


@pytest.mark.parametrize("path", NEAR_MISSES)
async def test_a_browser_gets_a_page_that_leads_to_the_app(
    context: BrowserContext, server: RunningServer, tabs: Tabs, path: str
) -> None:
    tab = await new_tab(context)
    tabs.append(tab)
    page = tab.page
    trouble = Trouble()  # a CSP refusal, the stylesheet not found
    trouble.watch(page)
    response = await page.goto(path)
    assert response is not None
    assert response.status == 404
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    await expect(page).to_have_title("Page not found · Vividly")
    await expect(page.get_by_role("heading", name="There is no page here")).to_be_visible()
    # Styled: landing.css applied (its card has a border), no inline style needed.
    border = await page.locator("main.card").evaluate("e => getComputedStyle(e).borderTopWidth")
    assert border == "1px"
    await page.get_by_role("link", name="Open Vividly").click()
    await expect(page).to_have_url(server.base_url + "/")
    await expect(page.locator("#login")).to_be_visible()
    assert [t for t in trouble if "404" not in t] == []  # only the page's own status


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/api/v1/nothing", HTML),  # the API, even asked by a browser
        ("/api/v1/notifications/999999999/nothing", HTML),
        ("/requests/", "application/json"),  # a client
        ("/preferences/x", "*/*"),
        ("/static/js/nope.js", "*/*"),  # a script the page asks for
    ],
)
async def test_the_api_and_clients_keep_the_json_404(
    server: RunningServer, path: str, accept: str
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


async def test_favicon_ico_is_the_apps_icon(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get("/favicon.ico")
        icon = await client.get("/static/icons/icon-192.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == icon.content
    assert response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
async def test_the_page_fits_phone_and_desktop(
    phone: BrowserContext,
    desktop: BrowserContext,
    server: RunningServer,
    tabs: Tabs,
    device: str,
    scheme: Literal["light", "dark"],
) -> None:
    tab = await new_tab(phone if device == "phone" else desktop)
    tabs.append(tab)
    page = tab.page
    await page.emulate_media(color_scheme=scheme)
    await page.goto("/requests/")
    await expect(page.get_by_role("link", name="Open Vividly")).to_be_visible()
    widths = await page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    await shot(page, f"after-i23-not-found-{device}{'-dark' if scheme == 'dark' else ''}.png")
