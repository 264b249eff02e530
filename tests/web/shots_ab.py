"""Before/after screenshots of the admin page (issue 22, defect 10, and the copy experiments).

Not a test: `.venv/bin/python -m tests.web.shots_ab before-i22` (or `after-i22`) serves the app on
a fresh database (see tests/web/shots.py), fills a week of notifications of each type with
deliveries, seen and opened marks spread over the days, signs in as an admin and shoots
`/admin` at 390 px and on the desktop, in light and dark.
"""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import Page, ViewportSize

from tests.web.shots import PHONE, Scenario, run

WIDE: ViewportSize = {"width": 1366, "height": 800}
TYPES = ("video_complete", "video_failed", "clarification_needed")

# A week of notifications: per day and type a few dozen, some delivered, seen and opened.
SEED = """
INSERT INTO notifications (user_id, type, payload, created_at, delivered_at, delivered_via,
                           seen_at, opened_at)
SELECT gen_random_uuid(), t.type, jsonb_build_object('title', 'Lesson ' || i),
       now() - make_interval(days => d, hours => i % 20),
       CASE WHEN i % 10 <> 0 THEN now() - make_interval(days => d, hours => i % 20) END,
       CASE WHEN i % 10 <> 0 THEN (ARRAY['stream', 'push', 'email'])[1 + i % 3] END,
       CASE WHEN i % 10 <> 0 AND i % (2 + d % 3) = 0
            THEN now() - make_interval(days => d, hours => i % 20) END,
       CASE WHEN i % 10 <> 0 AND i % (4 + d % 3) = 0
            THEN now() - make_interval(days => d, hours => i % 20) END
FROM unnest($1::text[]) AS t (type), generate_series(0, 6) AS d, generate_series(1, 30) AS i
WHERE i <= 10 + 3 * d + (array_position($1::text[], t.type) * 5)
"""


async def admin_page(page: Page, conn: asyncpg.Connection, dark: bool) -> None:
    await conn.execute(SEED, list(TYPES))
    login = await page.context.request.post(
        "/api/v1/dev/login", data={"user_id": str(uuid.uuid4()), "admin": True}
    )
    assert login.ok, login.status
    if dark:
        await page.emulate_media(color_scheme="dark")
    await page.goto("/admin")
    await page.wait_for_selector("#results:not([hidden])")
    await page.wait_for_timeout(300)


EXPERIMENT = {
    "type": "video_complete",
    "a": {"heading": "{title} is ready", "body": "Your video is waiting: watch it now."},
    "b": {"heading": "New video: {title}", "body": "Tap to play it."},
}


async def experiment(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """An experiment of video_complete with a few hundred notifications, b ahead."""
    await admin_page(page, conn, dark=False)
    await conn.execute("DELETE FROM notifications WHERE copy_experiment_id IS NOT NULL")
    await conn.execute("DELETE FROM copy_experiments")
    created = await page.request.post(
        "/api/v1/admin/experiments",
        data=EXPERIMENT,
        headers={"Origin": page.url.split("/admin")[0]},
    )
    assert created.ok, await created.text()
    made = (await created.json())["id"]
    await conn.execute(
        "INSERT INTO notifications (user_id, type, payload, delivered_at, delivered_via, seen_at)"
        " SELECT gen_random_uuid(), 'video_complete', '{\"title\": \"Tides\"}', now(),"
        " 'stream', now() FROM generate_series(1, 400)"
    )
    await conn.execute(
        "UPDATE notifications SET opened_at = now() WHERE copy_experiment_id = $1"
        " AND ((copy_variant = 'a' AND id % 5 = 0) OR (copy_variant = 'b' AND id % 3 = 0))",
        made,
    )
    await page.reload()
    await page.locator("#experiments .experiment").scroll_into_view_if_needed()
    await page.wait_for_timeout(300)


async def light(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await admin_page(page, conn, dark=False)


async def dark(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await admin_page(page, conn, dark=True)


async def light_full(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await admin_page(page, conn, dark=False)
    await page.set_viewport_size({"width": 390, "height": 2200})


async def desktop_full(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await admin_page(page, conn, dark=False)
    await page.set_viewport_size({"width": 1366, "height": 1900})


async def experiment_dark(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    await experiment(page, conn, user)
    await page.emulate_media(color_scheme="dark")
    await page.wait_for_timeout(300)


async def experiment_form(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """The "New experiment" form with a placeholder it refuses."""
    await admin_page(page, conn, dark=False)
    await page.get_by_text("New experiment").click()
    await page.fill("#exp-a-heading", "{title} is ready")
    await page.fill("#exp-a-body", "Watch it now.")
    await page.fill("#exp-b-heading", "")
    await page.fill("#exp-b-body", "Hi {user}")
    await page.get_by_role("button", name="Start the experiment").click()
    await page.wait_for_selector("#experiment-error:not(:empty)")
    await page.locator("#experiment-form").scroll_into_view_if_needed()


SCENARIOS: list[tuple[str, ViewportSize, Scenario]] = [
    ("admin-phone", PHONE, light),
    ("admin-phone-full", PHONE, light_full),
    ("admin-desktop", WIDE, light),
    ("admin-desktop-full", WIDE, desktop_full),
    ("admin-phone-dark", PHONE, dark),
    ("admin-desktop-dark", WIDE, dark),
    ("admin-experiment-phone", PHONE, experiment),
    ("admin-experiment-desktop", WIDE, experiment),
    ("admin-experiment-desktop-dark", WIDE, experiment_dark),
    ("admin-experiment-form-phone", PHONE, experiment_form),
]


if __name__ == "__main__":
    run(SCENARIOS)
