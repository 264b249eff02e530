"""Screenshots of issue 23's "a digest worth opening": the digest email, the confirmation email
and every landing page of the digest's links, at 600 and 390 px, light and dark, full page.

Not a test: `.venv/bin/python -m tests.web.shots_digest [names]` writes
`docs/screenshots/after-i23-<name>-<width>-<scheme>.png`. No database or server: the emails are
built by `service.channels.email.message` from tests/support/digest_sample.py's five
notifications (a ready video, a failure, a clarification, a very long title, right-to-left
text), their thumbnails rendered by the pipeline's own `media.render`; the landing pages are the
responses of `service.channels.email.pages`, served with web/css/landing.css on the same origin.
Chromium shows an email as a mail client's web view does: the HTML part alone, as sent.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from fastapi.responses import HTMLResponse
from playwright.async_api import Route, async_playwright

from service.channels.email import message, pages
from service.channels.email.open_links import OpenLinks
from service.channels.email.signed_links import ConfirmLinks, UnsubscribeLinks
from service.requests import media
from tests.support import digest_sample as sample
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.shots import OUT

WEB = Path(__file__).resolve().parents[2] / "web"
WIDTHS = (600, 390)
SCHEMES = ("light", "dark")
CONFIRM_URL = f"{sample.PUBLIC_URL}/api/v1/digest/confirm?token=eyJ1Ijoi.c2lnbmF0dXJl"
KEY = b"a key for the screenshots that is long enough to sign with"
# The refusals as the links say them (signed_links.py): a link a mail program broke.
BROKEN_UNSUBSCRIBE = str(UnsubscribeLinks(KEY, base_url="", max_age_seconds=1).broken())
EXPIRED_CONFIRM = str(ConfirmLinks(KEY, base_url="", max_age_seconds=1).expired())
BROKEN_OPEN = str(OpenLinks(KEY, base_url="", max_age_seconds=1).broken())
LANDING: dict[str, Callable[[], HTMLResponse]] = {
    "unsubscribe-confirm": lambda: pages.confirm("student@example.com", "/api/v1/digest/u"),
    "unsubscribe-done": lambda: pages.done("The digest to s•••@example.com is off."),
    "unsubscribe-refused": lambda: pages.refused(BROKEN_UNSUBSCRIBE, 400),
    "confirm-address": lambda: pages.confirm_address("student@example.com", "/api/v1/c"),
    "address-confirmed": lambda: pages.address_confirmed(
        "Digests will go to s•••@example.com, daily."
    ),
    "confirm-refused": lambda: pages.confirm_refused(EXPIRED_CONFIRM, 400),
    "open-refused": lambda: pages.open_refused(BROKEN_OPEN, 400),
}


def html_of(built: EmailMessage) -> str:
    part = built.get_body(("html",))
    assert part is not None
    content: str = part.get_content()
    return content


async def thumbnails(directory: Path) -> dict[str, bytes]:
    """The pipeline's PNG thumbnails of the sample's videos, by URL path."""
    made = {}
    for n, row in enumerate(sample.rows()):
        url = row["payload"].get("thumbnail_url", "")
        if url.endswith(".png"):
            rendered = await media.render(directory, sample.IDS[n], 1, row["payload"]["title"])
            made[url] = rendered.thumbnail_path.read_bytes()
    return made


def documents() -> dict[str, str]:
    """Every document to photograph, by name: the two emails, then the landing pages."""
    config = sample.settings()
    confirm = message.confirmation(
        config,
        to="student@example.com",
        confirm_url=CONFIRM_URL,
        message_uuid=sample.IDS[0],
        date=sample.NOW,
    )
    made = {
        "digest": html_of(sample.digest(total=7, time_zone="Europe/Berlin")),
        "confirm-mail": html_of(confirm),
    }
    for name, page in LANDING.items():
        made[f"landing-{name}"] = bytes(page().body).decode()
    return made


async def main(only: set[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        images = await thumbnails(Path(scratch))
    stylesheet = (WEB / "css" / "landing.css").read_bytes()
    shown = documents()

    async def serve(route: Route) -> None:
        path = route.request.url.removeprefix(sample.PUBLIC_URL).split("?")[0]
        if path in images:
            await route.fulfill(body=images[path], content_type="image/png")
        elif path == "/static/css/landing.css":
            await route.fulfill(body=stylesheet, content_type="text/css")
        elif path.startswith("/shot/"):
            html = shown[path.removeprefix("/shot/")]
            await route.fulfill(body=html, content_type="text/html; charset=utf-8")
        else:
            await route.fulfill(status=404, body="")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        for name in shown:
            if only and name not in only:
                continue
            for width in WIDTHS:
                for scheme in SCHEMES:
                    context = await browser.new_context(
                        viewport={"width": width, "height": 700},
                        color_scheme="dark" if scheme == "dark" else "light",
                    )
                    await context.route(f"{sample.PUBLIC_URL}/**", serve)
                    page = await context.new_page()
                    await page.goto(f"{sample.PUBLIC_URL}/shot/{name}")
                    await page.wait_for_load_state("networkidle")
                    out = Path(OUT) / f"after-i23-{name}-{width}-{scheme}.png"
                    await page.screenshot(path=str(out), full_page=True)
                    print(out.name)
                    await context.close()
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main(set(sys.argv[1:])))
