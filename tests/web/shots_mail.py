"""Screenshots of issue 23's "mail that arrives": the preferences dialog's "By email" section
when the digest's address is suspended after hard bounces, at desktop and phone, light and dark.

`python -m tests.web.shots_mail before-i23|after-i23 [names]` (docs/screenshots/<phase>-<name>.png).
The server sends digests through an SMTP server on the loopback (the section needs SMTP_HOST).
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import asyncpg
from playwright.async_api import Page, ViewportSize, async_playwright

from db import migrate
from db.pool import connect
from db.urls import asyncpg_dsn, with_database
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, open_account_item
from tests.support.digest import digest_settings, subscribe
from tests.support.mailbox import smtp_server
from tests.support.server import running_server
from tests.web.shots import OUT

DESKTOP: ViewportSize = {"width": 1366, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

SUSPEND = (
    "UPDATE email_digest_preferences SET hard_bounces = 3, suspended_at = now(),"
    " suspended_reason = 'recipient refused: 550 5.1.1 No such user' WHERE user_id = $1"
)


async def suspended(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await subscribe(conn, user, f"gone-{user.hex[:6]}@example.com", "weekly")
    await conn.execute(SUSPEND, user)
    await open_account_item(page, "#prefs-button")
    await page.wait_for_selector("#prefs-email-controls:not([hidden])")
    await page.evaluate("document.getElementById('prefs-email-last-error').scrollIntoView(false)")
    await page.wait_for_timeout(300)


SCENARIOS: list[tuple[str, ViewportSize, bool]] = [
    ("digest-suspended", DESKTOP, False),
    ("digest-suspended-phone", PHONE, False),
    ("digest-suspended-dark", DESKTOP, True),
    ("digest-suspended-phone-dark", PHONE, True),
]


async def main(phase: str, only: set[str]) -> None:
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"vividly_shots_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(admin_url))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        conn = await connect(url)
        with smtp_server() as box:
            async with (
                running_server(digest_settings(url, box)) as server,
                async_playwright() as playwright,
            ):
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                for shot, viewport, dark in SCENARIOS:
                    if only and shot not in only:
                        continue
                    context = await browser.new_context(
                        base_url=server.base_url,
                        viewport=viewport,
                        is_mobile=viewport is PHONE,
                        has_touch=viewport is PHONE,
                        color_scheme="dark" if dark else "light",
                    )
                    user = uuid.uuid4()
                    await context.request.post("/api/v1/dev/login", data={"user_id": str(user)})
                    page = await context.new_page()
                    await page.goto("/")
                    await page.wait_for_selector("#connection[data-state=connected]")
                    await suspended(page, conn, user)
                    await page.screenshot(path=str(Path(OUT) / f"{phase}-{shot}.png"))
                    print(f"{phase}-{shot}.png")
                    await context.close()
                await browser.close()
        await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "after-i23", set(sys.argv[2:])))
