"""Before/after screenshots of issue 22's sign-in and push defects (11, 12), for docs/ui-fixes.md.

Not a test: `.venv/bin/python -m tests.web.shots_a11y after-i22` (or `before-i22`, on the old
page) writes `docs/screenshots/<phase>-<scenario>.png`; see `tests/web/shots.py`. The server has
no VAPID keys: push is off, as on a development machine.
"""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import Page, ViewportSize

from tests.web.shots import PHONE, Scenario, run

DESKTOP: ViewportSize = {"width": 1366, "height": 800}


async def sign_in_as(page: Page, text: str) -> None:
    """Log out (the cookie goes), then type `text` in the login form and submit it."""
    await page.context.clear_cookies()
    await page.reload()
    await page.wait_for_selector("#login-user", state="visible")
    await page.fill("#login-user", text)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_timeout(800)


async def login_alice(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """The README's "sign in with any user id", with the id a developer types first."""
    await sign_in_as(page, "alice")


async def login_refused(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """An id the development login does not take (a space): the form says what it takes."""
    await sign_in_as(page, "alice smith")


async def prefs_push_off(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """Preferences on a server without Web Push: the "On this browser" rows."""
    await page.click("#prefs-button")
    await page.wait_for_selector("#prefs[open]")
    await page.wait_for_timeout(500)
    await page.locator("#prefs-desktop").scroll_into_view_if_needed()


SCENARIOS: list[tuple[str, ViewportSize, Scenario]] = [
    ("login-alice", DESKTOP, login_alice),
    ("login-alice-phone", PHONE, login_alice),
    ("login-refused-phone", PHONE, login_refused),
    ("prefs-push-off", DESKTOP, prefs_push_off),
    ("prefs-push-off-phone", PHONE, prefs_push_off),
]

if __name__ == "__main__":
    run(SCENARIOS)
