"""A notification's own page in the app (issue 23, links by subject), in Chromium on a real
server: a digest's open link followed signed in and signed out lands on the ready video in the
player or on the failed request with its Try again; a request's page on its own, with the way
back; a link for nobody's request says so; Back and closing the player return to `/`.

The server's PUBLIC_URL is its own address (a port picked first), so the open link's 303 leads
back to it as it would in production.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Literal

import asyncpg
import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from service.channels.email.open_links import OpenLinks
from service.http.routes.dev import dev_user_id
from service.live.subjects import PREFERENCES_PATH
from tests.support.browser import Tabs, new_tab, notification_ids
from tests.support.page import Trouble, shot
from tests.support.ports import free_port
from tests.support.server import RunningServer, complete, running_server, settings_for
from tests.support.waiting import until

NOT_YOURS = "This request is not in your account"


@pytest.fixture(scope="module")
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    port = free_port()
    settings = settings_for(database_url, public_url=f"http://127.0.0.1:{port}")
    async with running_server(settings, port=port) as running:
        yield running


async def failed(conn: asyncpg.Connection, user: uuid.UUID, title: str = "Tides") -> uuid.UUID:
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', $2, $2, 'We could not make this video.') RETURNING id",
        user,
        title,
    )
    return request_id


async def asked(conn: asyncpg.Connection, user: uuid.UUID) -> uuid.UUID:
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, clarification_question)"
        " VALUES ($1, 'clarification_needed', 'Explain waves', 'Which grade are you in?')"
        " RETURNING id",
        user,
    )
    return request_id


def open_link(server: RunningServer, user: uuid.UUID, notification_id: int) -> str:
    """The digest's link to a notification, as the sender makes it."""
    links = OpenLinks.from_settings(server.settings)
    assert links is not None
    return links.url(user, notification_id)


async def sign_in(page: Page, name: str) -> None:
    await expect(page.locator("#login")).to_be_visible()
    await page.fill("#login-user", name)
    await page.get_by_role("button", name="Log in").click()


async def player_shows(page: Page, title: str) -> None:
    await expect(page.locator("#player")).to_be_visible()
    await expect(page.locator("#player-title")).to_have_text(title)
    assert (await page.locator("#player-video").get_attribute("src") or "").endswith(
        "/media/v.webm"
    )


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "signed-out"])
@pytest.mark.parametrize("subject", ["ready-video", "failed-request"])
async def test_a_digest_link_lands_on_the_subjects_own_page(
    context: BrowserContext,
    server: RunningServer,
    conn: asyncpg.Connection,
    tabs: Tabs,
    subject: str,
    signed_in: bool,
) -> None:
    name = f"student-{uuid.uuid4().hex[:8]}"
    user = dev_user_id(name)
    if subject == "ready-video":
        request_id = await complete(conn, user, title="Why is the sky blue?")
        page_path = f"/videos/{request_id}"
    else:
        request_id = await failed(conn, user)
        page_path = f"/requests/{request_id}"
    [notification_id] = await notification_ids(conn, user)
    if signed_in:
        response = await context.request.post("/api/v1/dev/login", data={"user_id": name})
        assert response.ok
    tab = await new_tab(context)
    tabs.append(tab)
    page = tab.page

    await page.goto(open_link(server, user, notification_id))  # the 303, followed
    if not signed_in:
        # The form shows on that address, kept whole (the notification to mark included).
        await expect(page).to_have_url(f"{server.base_url}{page_path}?n={notification_id}")
        await sign_in(page, name)
    await expect(page).to_have_url(server.base_url + page_path)
    if subject == "ready-video":
        await player_shows(page, "Why is the sky blue?")
        # The tab names the video (the unread count before it while the page marks it read).
        await expect(page).to_have_title(re.compile(r"^(\(1\) )?Why is the sky blue\? · Vividly$"))
    else:
        row = page.locator(f'#requests-list li[data-id="{request_id}"]')
        await expect(row.get_by_role("button", name="Try again")).to_be_visible()
        await expect(row.get_by_role("button", name="Try again")).to_be_focused()
        await expect(row).to_contain_text("We could not make this video.")
        await expect(page.locator("#ask-card")).to_be_hidden()
        await expect(page.get_by_role("link", name="All requests")).to_be_visible()
    state = "SELECT read_at, opened_at FROM notifications WHERE id = $1"
    await until(
        lambda: _all_set(conn, state, notification_id), "the page marked it read and opened"
    )
    await expect(page).to_have_url(server.base_url + page_path)  # `?n=` done with


async def _all_set(conn: asyncpg.Connection, query: str, *args: object) -> bool:
    row = await conn.fetchrow(query, *args)
    return row is not None and all(value is not None for value in row.values())


async def test_following_a_digest_link_changes_nothing_until_its_owner_sees_the_page(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    owner = uuid.uuid4()
    request_id = await complete(conn, owner, title="Why is the sky blue?")
    [notification_id] = await notification_ids(conn, owner)
    link = open_link(server, owner, notification_id)
    state = "SELECT read_at, opened_at, seen_at FROM notifications WHERE id = $1"
    # A mail scanner fetching every link of the digest (no cookie), GET and HEAD:
    async with httpx.AsyncClient() as scanner:
        for method in ("GET", "HEAD"):
            answer = await scanner.request(method, link)
            assert answer.status_code == 303
            expected = f"{server.base_url}/videos/{request_id}?n={notification_id}"
            assert answer.headers["location"] == expected
    # Another student who opens it in the app: told it is not theirs, nothing marked.
    other = (await tabs.open(context, uuid.uuid4())).page
    await other.goto(link)
    await expect(other.locator("#subject-missing")).to_be_visible()
    await other.wait_for_timeout(500)  # time for a wrong report to land, were one sent
    assert not any((await conn.fetchrow(state, notification_id)).values())
    assert await conn.fetchval("SELECT count(*) FROM notifications WHERE user_id = $1", owner) == 1


async def test_a_request_page_shows_it_alone_and_leads_back_to_every_request(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    other = await failed(conn, user, "Volcanoes")
    question = await asked(conn, user)
    tab = await tabs.open(context, user)
    page = tab.page
    await expect(page.locator("#requests-list li")).to_have_count(2)

    await page.goto(f"/requests/{question}?action=answer")
    row = page.locator(f'#requests-list li[data-id="{question}"]')
    await expect(row.get_by_label("Your answer")).to_be_focused()
    await expect(page.locator(f'#requests-list li[data-id="{other}"]')).to_be_hidden()
    await expect(page.locator("#requests-title")).to_have_text("Your request")
    await expect(page).to_have_title("(2) Your request · Vividly")  # the unread count first

    await page.get_by_role("link", name="All requests").click()
    await expect(page).to_have_url(server.base_url + "/")
    await expect(page.locator("#ask-card")).to_be_visible()
    await expect(page.locator(f'#requests-list li[data-id="{other}"]')).to_be_visible()
    await expect(row).to_be_focused()  # the request just left, in its place in the list


@pytest.mark.parametrize(
    "path",
    [
        "/requests/{foreign}",  # another student's
        "/videos/{foreign}",
        f"/requests/{uuid.uuid4()}",  # nobody's
        "/requests/not-a-uuid",
        "/videos/%E0%A4%A",  # a broken escape
    ],
)
async def test_a_page_for_a_request_not_in_the_account_says_so(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs, path: str
) -> None:
    foreign = await complete(conn, uuid.uuid4())
    tab = await tabs.open(context, uuid.uuid4())
    page = tab.page
    await page.goto(path.format(foreign=foreign))
    await expect(page.locator("#subject-missing")).to_be_visible()
    video = path.startswith("/videos/")  # said in the address's own words
    heading = "This video is not in your account" if video else NOT_YOURS
    await expect(page.get_by_role("heading", name=heading)).to_be_focused()
    await expect(page).to_have_title(f"{'Video' if video else 'Request'} not found · Vividly")
    await expect(page.locator("#player")).to_be_hidden()
    await expect(page.locator("#requests-card")).to_be_hidden()
    if path == "/requests/not-a-uuid":
        await shot(page, "after-i23-request-not-yours.png")
    await page.get_by_role("link", name="All requests").click()
    await expect(page).to_have_url(server.base_url + "/")
    await expect(page.locator("#subject-missing")).to_be_hidden()
    await expect(page.locator("#ask-card")).to_be_visible()


async def test_a_notification_click_goes_to_its_link_and_back_returns(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    tab = await tabs.open(context, user)
    page = tab.page
    broken = await failed(conn, user)
    made = await complete(conn, user, title="Volcanoes")
    await expect(tab.badge).to_have_text("2")
    failed_notice, video_notice = await notification_ids(conn, user)

    await tab.open_panel()
    await tab.notice(failed_notice).locator(".notice-main").click()
    await expect(page).to_have_url(f"{server.base_url}/requests/{broken}")
    row = page.locator(f'#requests-list li[data-id="{broken}"]')
    await expect(row.get_by_role("button", name="Try again")).to_be_focused()
    await expect(page.locator("#ask-card")).to_be_hidden()
    await page.go_back()  # Back: every request again
    await expect(page).to_have_url(server.base_url + "/")
    await expect(page.locator("#ask-card")).to_be_visible()
    await page.go_forward()
    await expect(page.locator("#ask-card")).to_be_hidden()
    await expect(page).to_have_url(f"{server.base_url}/requests/{broken}")

    await tab.open_panel()
    await tab.notice(video_notice).locator(".notice-main").click()
    await expect(page).to_have_url(f"{server.base_url}/videos/{made}")
    await player_shows(page, "Volcanoes")
    await page.click("#player-close")  # closing the player leaves its page
    await expect(page.locator("#player")).to_be_hidden()
    await expect(page).to_have_url(f"{server.base_url}/requests/{broken}")  # where it came from

    # Landed on the video's page from outside: closing it returns to `/`, not back out.
    await page.goto(f"/videos/{made}")
    await player_shows(page, "Volcanoes")
    await page.keyboard.press("Escape")
    await expect(page.locator("#player")).to_be_hidden()
    await expect(page).to_have_url(server.base_url + "/")
    await expect(page.locator("#ask-card")).to_be_visible()


async def test_a_video_page_of_a_request_with_no_video_shows_the_request(
    context: BrowserContext, server: RunningServer, conn: asyncpg.Connection, tabs: Tabs
) -> None:
    user = uuid.uuid4()
    broken = await failed(conn, user)
    tab = await tabs.open(context, user)
    await tab.page.goto(f"/videos/{broken}")
    await expect(tab.page).to_have_url(f"{server.base_url}/requests/{broken}")
    row = tab.page.locator(f'#requests-list li[data-id="{broken}"]')
    await expect(row.get_by_role("button", name="Try again")).to_be_focused()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["phone", "desktop"])
async def test_the_request_page_fits_phone_and_desktop(
    phone: BrowserContext,
    desktop: BrowserContext,
    server: RunningServer,
    conn: asyncpg.Connection,
    tabs: Tabs,
    device: str,
    scheme: Literal["light", "dark"],
) -> None:
    context = phone if device == "phone" else desktop
    user = uuid.uuid4()
    await failed(conn, user, "Why do volcanoes erupt?")
    broken = await failed(conn, user, "How do plants make food from sunlight?")
    assert (await context.request.post("/api/v1/dev/login", data={"user_id": str(user)})).ok
    tab = await new_tab(context)
    tabs.append(tab)
    page = tab.page
    await page.emulate_media(color_scheme=scheme)
    trouble = Trouble()  # a CSP refusal, an asset not found from the nested path
    trouble.watch(page)
    await page.goto(f"/requests/{broken}?action=retry")  # the first page the tab loads
    row = page.locator(f'#requests-list li[data-id="{broken}"]')
    retry = row.get_by_role("button", name="Try again")
    await expect(retry).to_be_focused()
    back = page.get_by_role("link", name="All requests")
    for control in (retry, back):
        box = await control.bounding_box()
        assert box is not None
        viewport = page.viewport_size
        assert viewport is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= viewport["width"]
        if device == "phone":
            assert box["height"] >= 44  # a finger's target
    widths = await page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    assert trouble == []
    await page.wait_for_timeout(1700)  # the highlight faded
    await shot(page, f"after-i23-request-page-{device}{'-dark' if scheme == 'dark' else ''}.png")


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "signed-out"])
async def test_the_digests_manage_preferences_link_opens_them_at_by_email(
    context: BrowserContext, server: RunningServer, tabs: Tabs, signed_in: bool
) -> None:
    name = f"student-{uuid.uuid4().hex[:8]}"
    if signed_in:
        response = await context.request.post("/api/v1/dev/login", data={"user_id": name})
        assert response.ok
    tab = await new_tab(context)
    tabs.append(tab)
    page = tab.page
    await page.goto(server.base_url + PREFERENCES_PATH)  # the digest's "Manage preferences"
    if not signed_in:
        await sign_in(page, name)
    dialog = page.locator("#prefs")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#prefs-email")).to_be_in_viewport()
    await expect(page).to_have_url(server.base_url + PREFERENCES_PATH)
    await page.keyboard.press("Escape")  # closed: the address is the app's again
    await expect(dialog).to_be_hidden()
    await expect(page).to_have_url(server.base_url + "/")
    # The header's Preferences is the same page, and Back closes it.
    await page.locator("#prefs-button").click()
    await expect(dialog).to_be_visible()
    await expect(page).to_have_url(server.base_url + PREFERENCES_PATH)
    await page.go_back()
    await expect(dialog).to_be_hidden()
    await expect(page).to_have_url(server.base_url + "/")
