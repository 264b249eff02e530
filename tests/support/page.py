"""Shared by the page's browser tests: viewports, screenshots, layout checks, pages to record."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import ConsoleMessage, FloatRect, Page, Request, Response, ViewportSize

PHONE: ViewportSize = {"width": 390, "height": 760}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


THUMBNAIL = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90">'
    '<rect width="160" height="90" fill="#4f46e5"/></svg>'
)


# Every tab records the system notifications it shows (still calling the real constructor) and
# gets a switch for its visibility: `document.visibilityState`/`hidden` and `visibilitychange`,
# what the page reads, as a tab moved to the background reports them.
DESKTOP_RECORDER = """
(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true, get: () => (hidden ? 'hidden' : 'visible'),
  });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  const Real = window.Notification;
  window.__shown = [];
  window.__systemNotifications = [];
  window.Notification = class extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__shown.push({ title, body: options.body, tag: options.tag, icon: options.icon });
      window.__systemNotifications.push(this);
    }
  };
})();
"""


async def shot(page: Page, name: str) -> None:
    if os.environ.get("SCREENSHOTS"):
        await page.screenshot(path=str(SCREENSHOTS / name), animations="disabled")


async def no_sideways_scroll(page: Page) -> None:
    widths = await page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths


async def within_viewport(page: Page, selector: str) -> None:
    width = await page.evaluate("document.documentElement.clientWidth")
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= width, (selector, box, width)


def overlap(a: FloatRect, b: FloatRect) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


class Trouble(list[str]):
    """Console errors and warnings, failed requests and error statuses a page produced."""

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("requestfailed", self._failed)
        page.on("response", self._status)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.append(f"console {message.type}: {message.text}")

    def _failed(self, request: Request) -> None:
        if "/notifications/stream" not in request.url:  # a reload ends the open stream
            self.append(f"failed: {request.method} {request.url} {request.failure}")

    def _status(self, response: Response) -> None:
        if response.status >= 400:
            self.append(f"{response.status}: {response.request.method} {response.url}")
