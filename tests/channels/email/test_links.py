"""The digest's signed links: one-click unsubscribe, confirmation and open links, and every
forged, altered or expired one refused without changing anything."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx

from service.channels.email.open_links import OpenLinks
from service.channels.email.signed_links import UnsubscribeLinks
from tests.support.digest import (
    digests_to,
    link_of,
    make_due,
    notify,
    open_links,
    parse_html,
)
from tests.support.digest_api import (
    OPEN,
    PREFS,
    UNSUBSCRIBE,
    _tampered,
    auth,
    bodies,
    mail_to,
    opt_in,
)
from tests.support.mailbox import Mailbox
from tests.support.metrics import value
from tests.support.server import RunningServer


async def test_the_unsubscribe_link_asks_on_get_and_unsubscribes_on_post(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"u-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    await notify(conn, student)
    await make_due(conn, student)
    [message] = await mail_to(module_mailbox, address)
    url = urlsplit(message["List-Unsubscribe"].split(",")[0].strip("<>"))
    link = f"{url.path}?{url.query}"
    opted_in = "SELECT opted_in FROM email_digest_preferences WHERE user_id = $1"

    async with httpx.AsyncClient(base_url=server.base_url) as client:
        # A scanner prefetching the link, or a person opening it: a question, nothing changed.
        page = await client.get(link, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        form = parse_html(page.text)
        assert "form" in form.tags
        assert "script" not in form.tags
        assert "u•••@example.com" in page.text
        assert address not in page.text
        as_json = await client.get(link)
        assert as_json.status_code == 200
        assert as_json.json()["unsubscribed"] is False
        assert await conn.fetchval(opted_in, student) is True

        # RFC 8058: the mail client POSTs the link, without any login (here as a webmail page
        # on another site would: the token, not the origin, authorises it).
        done = await client.post(
            link,
            content="List-Unsubscribe=One-Click",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": "https://webmail.example",
                "Sec-Fetch-Site": "cross-site",
            },
        )
        assert done.status_code == 200
        assert done.json()["unsubscribed"] is True
        assert await conn.fetchval(opted_in, student) is False
        again = await client.post(link)
        assert again.status_code == 200  # idempotent
        # Opened again in a browser: a sentence, capitalised.
        later = await client.get(link, headers={"Accept": "text/html"})
        assert "<p>This address is already unsubscribed.</p>" in later.text
        preference = (await client.get(PREFS, headers=auth(server, student))).json()
        # The preferences page can say when it was turned off: at the first POST, not later.
        turned_off = await conn.fetchval(
            "SELECT opted_out_at FROM email_digest_preferences WHERE user_id = $1", student
        )
        assert turned_off is not None
        assert datetime.fromisoformat(preference["opted_out_at"]) == turned_off
    assert (preference["email"], preference["opted_in"]) == (address, False)

    await notify(conn, student)
    await conn.execute(
        "UPDATE email_digest_preferences SET next_digest_at = now() WHERE user_id = $1", student
    )
    await asyncio.sleep(0.6)  # several sender passes
    assert len(digests_to(module_mailbox, address)) == 1


async def test_forged_altered_or_expired_links_are_refused_and_change_nothing(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"f-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    links = UnsubscribeLinks.from_settings(server.settings)
    assert links is not None
    good = links.token(student, address)
    forged = UnsubscribeLinks(
        b"another key that is long enough to sign with", base_url="x", max_age_seconds=3600
    ).token(student, address)
    old_clock = UnsubscribeLinks.from_settings(server.settings, clock=lambda: 1_000_000_000.0)
    assert old_clock is not None
    expired = old_clock.token(student, address)
    other_address = links.token(student, "someone-else@example.com")

    async with httpx.AsyncClient(base_url=server.base_url) as client:
        for token in [forged, expired, *_tampered(good)]:
            for method in ("GET", "POST"):
                response = await client.request(method, UNSUBSCRIBE, params={"token": token})
                assert response.status_code == 400, (method, token, response.text)
                assert response.headers["content-type"] == "application/json"
                assert response.json()["detail"]
                # A browser gets the page, never FastAPI's 422 JSON (even without a token).
                page = await client.request(
                    method, UNSUBSCRIBE, params={"token": token}, headers={"Accept": "text/html"}
                )
                assert page.status_code == 400, (method, token, page.text)
                assert "text/html" in page.headers["content-type"]
        expired_answer = await client.post(UNSUBSCRIBE, params={"token": expired})
        assert "expired" in expired_answer.json()["detail"]
        html = await client.post(
            UNSUBSCRIBE, params={"token": forged}, headers={"Accept": "text/html"}
        )
        assert html.status_code == 400
        assert "text/html" in html.headers["content-type"]
        # Signed, but for an address that is not (or no longer) the student's: 410.
        gone = await client.post(UNSUBSCRIBE, params={"token": other_address})
        assert gone.status_code == 410
        for method in ("GET", "POST"):  # no token at all
            bare = await client.request(method, UNSUBSCRIBE, headers={"Accept": "text/html"})
            assert bare.status_code == 400
            assert "This link is incomplete or was changed" in bare.text
            assert "text/html" in bare.headers["content-type"]
    assert await conn.fetchval(
        "SELECT opted_in FROM email_digest_preferences WHERE user_id = $1", student
    )
    [in_url] = parse_qs(urlsplit(links.url(student, address)).query)["token"]
    assert links.is_for(links.verify(in_url), address)


async def test_a_confirmation_link_is_refused_when_forged_or_of_another_kind(
    server: RunningServer, module_mailbox: Mailbox
) -> None:
    student = uuid.uuid4()
    address = f"k-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    links = UnsubscribeLinks.from_settings(server.settings)
    assert links is not None
    unsubscribe_token = links.token(student, address)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        for token in [unsubscribe_token, "x" * 600, ""]:
            answer = await client.post("/api/v1/digest/confirm", params={"token": token})
            assert answer.status_code == 400, answer.text
            for method in ("GET", "POST"):
                page = await client.request(
                    method,
                    "/api/v1/digest/confirm",
                    params={"token": token},
                    headers={"Accept": "text/html"},
                )
                assert page.status_code == 400, (method, token, page.text)
                assert "text/html" in page.headers["content-type"]
        bare = await client.get("/api/v1/digest/confirm", headers={"Accept": "text/html"})
        assert (bare.status_code, "text/html" in bare.headers["content-type"]) == (400, True)


async def test_a_click_in_the_digest_marks_opened_and_read_then_goes_to_the_video(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student, other = uuid.uuid4(), uuid.uuid4()
    address = f"o-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    clicked, cid = await notify(conn, student)
    untouched, _ = await notify(conn, student)
    theirs, _ = await notify(conn, other)
    await make_due(conn, student)
    [message] = await mail_to(module_mailbox, address)
    text, _html = bodies(message)
    by_id = {}
    links = OpenLinks.from_settings(server.settings)
    assert links is not None
    for url in open_links(text):
        [token] = parse_qs(urlsplit(url).query)["token"]
        by_id[links.verify(token).notification_id] = token
    assert set(by_id) == {clicked, untouched}
    state = "SELECT opened_at, seen_at, read_at FROM notifications WHERE id = $1"
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        opened_before = value(
            (await client.get("/metrics")).text, "vividly_notifications_opened_total"
        )
        for _ in range(2):  # a second click changes nothing more, and goes to the video again
            answer = await client.get(OPEN, params={"token": by_id[clicked]})
            assert answer.status_code == 303, answer.text
            assert answer.headers["location"] == link_of(cid)
        metrics = (await client.get("/metrics")).text
        assert value(metrics, "vividly_notifications_opened_total") == opened_before + 1
        row = await conn.fetchrow(state, clicked)
        assert all(row.values())
        assert not any((await conn.fetchrow(state, untouched)).values())

        # A link naming a notification of someone else (never mailed: made with the key) does
        # not touch it, and goes to this service, nowhere the request says.
        stray = await client.get(OPEN, params={"token": links.token(student, theirs)})
        assert (stray.status_code, stray.headers["location"]) == (303, "https://notify.example/")
        assert not any((await conn.fetchrow(state, theirs)).values())

        # Forged, altered, expired, of another kind, or no token: a 400 page, no redirect.
        forged = OpenLinks(
            b"another key that is long enough to sign with", base_url="x", max_age_seconds=3600
        ).token(student, untouched)
        old = OpenLinks.from_settings(server.settings, clock=lambda: 1_000_000_000.0)
        assert old is not None
        unsubscribe = UnsubscribeLinks.from_settings(server.settings)
        assert unsubscribe is not None
        refused = [
            forged,
            old.token(student, untouched),
            unsubscribe.token(student, address),
            *_tampered(by_id[untouched]),
        ]
        for token in refused:
            page = await client.get(OPEN, params={"token": token}, headers={"Accept": "text/html"})
            assert page.status_code == 400, (token, page.text)
            assert "text/html" in page.headers["content-type"]
            assert "location" not in page.headers
        bare = await client.get(OPEN, headers={"Accept": "text/html"})
        assert (bare.status_code, "location" in bare.headers) == (400, False)
        assert (await client.get(OPEN, params={"token": forged})).json()["detail"]
    assert not any((await conn.fetchrow(state, untouched)).values())
