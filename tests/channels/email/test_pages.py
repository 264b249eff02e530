"""The landing pages of the digest's links: the emails' look from a served stylesheet (the page's
Content-Security-Policy allows no inline style), a link back to the app, escaped details."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi.responses import HTMLResponse

from service.channels.email import pages
from service.channels.email.open_links import OpenLinks
from service.channels.email.signed_links import ConfirmLinks, InvalidLink, UnsubscribeLinks
from service.http.headers import CONTENT_SECURITY_POLICY
from tests.support.digest import parse_html
from tests.support.server import RunningServer

HOSTILE = '<script>alert("x")</script> & "quoted"'
PAGES: dict[str, Callable[[], HTMLResponse]] = {
    "unsubscribe-confirm": lambda: pages.confirm("student@example.com", "/u?token=a&b=1"),
    "unsubscribe-done": lambda: pages.done(HOSTILE),
    "unsubscribe-refused": lambda: pages.refused(HOSTILE, 400),
    "confirm-address": lambda: pages.confirm_address("student@example.com", "/c?token=a"),
    "address-confirmed": lambda: pages.address_confirmed(HOSTILE),
    "confirm-refused": lambda: pages.confirm_refused(HOSTILE, 410),
    "open-refused": lambda: pages.open_refused(HOSTILE, 400),
}
WITH_PREFERENCES = {
    "unsubscribe-confirm",
    "unsubscribe-done",
    "unsubscribe-refused",
    "address-confirmed",
    "confirm-refused",
}


@pytest.mark.parametrize("name", PAGES)
def test_a_landing_page_has_the_stylesheet_and_a_way_back(name: str) -> None:
    response = PAGES[name]()
    document = bytes(response.body).decode()
    page = parse_html(document)
    assert '<link rel="stylesheet" href="/static/css/landing.css">' in document
    assert '<meta name="color-scheme" content="light dark">' in document
    assert '<html lang="en">' in document
    # No inline style or script: the CSP (style-src 'self', script-src 'self') would block it.
    assert "script" not in page.tags
    assert "style" not in page.tags
    assert "style=" not in document
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "Vividly" in "".join(page.text)
    assert "/" in page.hrefs  # the brand and "Open Vividly"
    assert 'href="/">Open Vividly</a>' in document
    assert ("/preferences" in page.hrefs) == (name in WITH_PREFERENCES)
    if name.endswith("refused"):
        assert response.status_code >= 400
        assert "card-refused" in document
    assert "<script>" not in document
    if "&lt;script&gt;" in document:
        assert html.escape(HOSTILE).replace("&quot;", "&#34;") in document


def test_the_forms_post_to_their_link_escaped() -> None:
    document = bytes(pages.confirm("student@example.com", "/u?token=a&b=1").body).decode()
    assert '<form method="post" action="/u?token=a&amp;b=1">' in document
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in document
    assert "s•••@example.com" in document
    assert "student@example.com" not in document


async def test_the_stylesheet_is_served_under_the_pages_policy(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        css = await client.get("/static/css/landing.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert "@media (prefers-color-scheme: dark)" in css.text
        page = await client.get("/api/v1/digest/open", headers={"Accept": "text/html"})
        assert page.status_code == 400
        assert "style-src 'self'" in page.headers["content-security-policy"]
        assert '<link rel="stylesheet" href="/static/css/landing.css">' in page.text


KEY = b"a test key that is long enough to sign with 0123"
BROKEN = (
    "This link is incomplete or was changed — mail programs sometimes break long links. "
    "Open the notification in Vividly instead."
)


def test_a_broken_link_blames_the_mail_program_not_the_student() -> None:
    opens = OpenLinks(KEY, base_url="https://notify.example", max_age_seconds=3600)
    token = opens.token(uuid.uuid4(), 7)
    for damaged in (token[:40], token[:-3] + "abc", "", "x" * 5000):
        with pytest.raises(InvalidLink) as refused:
            opens.verify(damaged)
        assert str(refused.value) == BROKEN
    unsubscribes = UnsubscribeLinks(KEY, base_url="https://notify.example", max_age_seconds=60)
    with pytest.raises(InvalidLink) as refused:
        unsubscribes.verify(unsubscribes.token(uuid.uuid4(), "a@example.com")[:-6])
    assert str(refused.value).startswith("This link is incomplete or was changed — mail programs")


def test_every_refusal_is_a_capitalised_sentence() -> None:
    old = OpenLinks(KEY, base_url="x", max_age_seconds=60, clock=lambda: 1_000_000_000.0)
    opens = OpenLinks(KEY, base_url="x", max_age_seconds=60)
    future = OpenLinks(KEY, base_url="x", max_age_seconds=60, clock=lambda: 4_000_000_000.0)
    said = []
    for kind in (OpenLinks, UnsubscribeLinks, ConfirmLinks):
        links = kind(KEY, base_url="x", max_age_seconds=60)
        said += [str(links.broken()), str(links.expired()), str(links.not_valid())]
    for token in (old.token(uuid.uuid4(), 1), future.token(uuid.uuid4(), 1)):
        with pytest.raises(InvalidLink) as refused:
            opens.verify(token)
        said.append(str(refused.value))
    for sentence in said:
        assert sentence[0].isupper(), sentence
        assert sentence.endswith("."), sentence
        assert "the app" not in sentence, sentence  # Vividly, by name


def test_the_open_refusal_page_says_where_the_notification_is() -> None:
    document = bytes(pages.open_refused(BROKEN, 400).body).decode()
    assert "The notification is in the app." not in document
    assert f"<p>{html.escape(BROKEN)}</p>" in document
    assert 'href="/">Open Vividly</a>' in document
