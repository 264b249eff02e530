"""The app is installable: a web app manifest with its content type, icons that resolve, and
Chromium finding nothing that stops an install (what iPhones need before they allow Web Push)."""

from __future__ import annotations

import json
import struct

from playwright.async_api import BrowserContext

from service.http.routes.install import MANIFEST_PATH, MEDIA_TYPE
from tests.support.server import RunningServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> str:
    """`WxH` of a PNG, from its IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    return f"{width}x{height}"


async def test_the_manifest_and_its_icons_are_served(context: BrowserContext) -> None:
    answer = await context.request.get(MANIFEST_PATH)
    assert answer.status == 200
    assert answer.headers["content-type"] == MEDIA_TYPE
    assert "content-security-policy" in answer.headers
    manifest = json.loads(await answer.body())
    assert manifest["name"] == manifest["short_name"] == "Vividly"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )
    assert manifest["theme_color"] == "#ffffff"
    assert manifest["background_color"] == "#f5f6fa"
    purposes = set()
    for icon in manifest["icons"]:
        image = await context.request.get(icon["src"])
        assert image.status == 200, icon
        assert image.headers["content-type"].startswith(icon["type"]), icon
        if icon["type"] == "image/png":
            assert png_size(await image.body()) == icon["sizes"], icon
        purposes.add(icon["purpose"])
    assert {"any", "maskable", "monochrome"} <= purposes
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["purpose"] == "any"}
    assert {"192x192", "512x512"} <= sizes
    for page, links in (
        ("/", ('rel="manifest" href="/manifest.webmanifest"', 'rel="apple-touch-icon"')),
        ("/admin", ('rel="apple-touch-icon"',)),
    ):
        html = await (await context.request.get(page)).text()
        assert 'href="data:,"' not in html
        for link in (*links, 'rel="icon" href="/static/icons/icon.svg"', 'name="theme-color"'):
            assert link in html, (page, link)
    touch = await context.request.get("/static/icons/apple-touch-icon.png")
    assert png_size(await touch.body()) == "180x180"


async def test_chromium_finds_the_app_installable(
    phone: BrowserContext, server: RunningServer
) -> None:
    page = await phone.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if message.type == "error" else None
    )
    await page.goto("/")
    cdp = await phone.new_cdp_session(page)
    found = await cdp.send("Page.getAppManifest")
    assert found["url"] == server.base_url + MANIFEST_PATH
    assert found["errors"] == [], found["errors"]
    assert json.loads(found["data"])["name"] == "Vividly"
    installability = await cdp.send("Page.getInstallabilityErrors")
    # Playwright's contexts are off the record, which Chromium never installs from: that is the
    # one reason allowed (a manifest, icon or scope problem would be listed beside it).
    errors = [error["errorId"] for error in installability["installabilityErrors"]]
    assert errors == ["in-incognito"], errors
    assert [text for text in refused if "Content Security Policy" in text] == []
