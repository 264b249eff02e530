"""The email digest end to end: the API, the served app's sender, a real SMTP server on loopback.

Periods are seconds long here (`TEST_PERIODS`); a test that is not about the period makes a
student's digest due at once with SQL (`make_due`).
"""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from service.channels.email.signed_links import OpenLinks, UnsubscribeLinks
from service.runtime import logs
from service.settings import Settings
from tests.support.digest import (
    TEST_PERIODS,
    confirm_link,
    confirmations_to,
    digest_settings,
    digests_to,
    link_of,
    make_due,
    notify,
    open_links,
    parse_html,
    watch_links,
)
from tests.support.mailbox import Mailbox
from tests.support.metrics import value
from tests.support.server import RunningServer
from tests.support.waiting import until

PREFS = "/api/v1/digest/preferences"
UNSUBSCRIBE = "/api/v1/digest/unsubscribe"


@pytest.fixture(scope="module")
def server_settings(database_url: str, module_mailbox: Mailbox) -> Settings:
    return digest_settings(database_url, module_mailbox)


def auth(server: RunningServer, user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token(user)}"}


async def opt_in(
    server: RunningServer, box: Mailbox, user: uuid.UUID, address: str, period: str = "weekly"
) -> dict[str, Any]:
    """Opt in and confirm the address with the link mailed to it."""
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.put(
            PREFS, json={"email": address, "period": period}, headers=auth(server, user)
        )
        assert response.status_code == 200, response.text
        assert response.json()["confirmed"] is False
        [mail] = await until(lambda: confirmations_to(box, address), "the confirmation email")
        confirmed = await client.post(confirm_link(mail))
        assert confirmed.json()["confirmed"] is True, confirmed.text
        response = await client.get(PREFS, headers=auth(server, user))
    body: dict[str, Any] = response.json()
    assert body["confirmed"] is True
    return body


async def mail_to(box: Mailbox, address: str, count: int = 1) -> list[EmailMessage]:
    def arrived() -> list[EmailMessage]:
        found = digests_to(box, address)
        return found if len(found) >= count else []

    return await until(arrived, f"{count} digest(s) reached {address}", timeout=10)


async def recorded(conn: asyncpg.Connection, student: uuid.UUID, count: int = 1) -> None:
    """Wait until `count` digests of `student` are recorded as sent (just after the server's
    acceptance)."""
    sql = "SELECT count(*) FROM email_digests WHERE user_id = $1 AND state = 'sent'"
    await until(lambda: _at_least(conn.fetchval(sql, student), count), "the send was recorded")


async def _at_least(value: Any, count: float) -> bool:
    return bool(await value >= count)


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


async def test_the_digest_lists_what_was_missed_with_links_escaped_and_unsubscribe_headers(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student, other = uuid.uuid4(), uuid.uuid4()
    address = f"s-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    hostile = '<script>alert("x")</script> & "Plants"\nFake: line'
    missed, missed_cid = await notify(conn, student, title=hostile)
    question, question_cid = await notify(
        conn, student, "clarification_needed", title=None, question="Is it <b>2+2</b>?"
    )
    pushed, pushed_cid = await notify(conn, student)
    streamed, _streamed_cid = await notify(conn, student)
    seen, _seen_cid = await notify(conn, student)
    read, _read_cid = await notify(conn, student)
    archived, _archived_cid = await notify(conn, student)
    theirs, _theirs_cid = await notify(conn, other)
    await conn.execute(
        "UPDATE notifications SET delivered_at = now(), delivered_via = 'push' WHERE id = $1",
        pushed,
    )
    await conn.execute(
        "UPDATE notifications SET delivered_at = now(), delivered_via = 'stream' WHERE id = $1",
        streamed,
    )
    await conn.execute("UPDATE notifications SET seen_at = now() WHERE id = $1", seen)
    await conn.execute("UPDATE notifications SET read_at = now() WHERE id = $1", read)
    await conn.execute("UPDATE notifications SET dismissed_at = now() WHERE id = $1", archived)
    await make_due(conn, student)

    [message] = await mail_to(module_mailbox, address)
    await recorded(conn, student)
    assert message["To"] == address
    assert message["From"] == "Vividly <digest@example.com>"
    assert message["Subject"] == "3 notifications you haven't seen"
    assert message["Message-ID"].endswith("@example.com>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url.startswith("https://notify.example/api/v1/digest/unsubscribe?token=")
    # On the wire as mail clients read it: the URL whole, on one line, not RFC 2047-encoded.
    [_confirmation, raw] = module_mailbox.raw_to(address)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert f"\r\nList-Unsubscribe: <{unsubscribe_url}>\r\n" in head
    assert "=?" not in head
    assert all(len(line) <= 998 for line in head.split("\r\n"))

    text, html = bodies(message)
    expected = [link_of(pushed_cid), link_of(question_cid), link_of(missed_cid)]  # newest first
    assert watch_links(text) == expected
    assert unsubscribe_url in text
    assert "Fake: line" in text
    assert "\nFake: line" not in text
    page = parse_html(html)
    assert page.hrefs == [*open_links(text), unsubscribe_url]
    assert "script" not in page.tags
    assert "b" not in page.tags
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Plants&quot;" in html
    assert hostile.replace("\n", " ") in "".join(page.text)  # shown as text, not markup
    assert "Is it <b>2+2</b>?" in "".join(page.text)

    delivered = {
        row["id"]: row["delivered_via"]
        for row in await conn.fetch(
            "SELECT id, delivered_via FROM notifications WHERE user_id = ANY($1)",
            [student, other],
        )
    }
    assert delivered == {
        missed: "email",
        question: "email",
        pushed: "push",  # the first channel stays
        streamed: "stream",
        seen: None,
        read: None,
        archived: None,
        theirs: None,
    }
    digest = await conn.fetchrow(
        "SELECT state, attempts, smtp_reply, sent_count FROM email_digests WHERE user_id = $1",
        student,
    )
    assert dict(digest) == {
        "state": "sent",
        "attempts": 1,
        "smtp_reply": digest["smtp_reply"],
        "sent_count": 3,
    }
    assert "queued as" in digest["smtp_reply"]
    assert not digests_to(module_mailbox, f"s-{other.hex[:8]}@example.com")


async def test_one_digest_per_period(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"p-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address, period="hourly")  # 1.5 s here
    first, first_cid = await notify(conn, student)
    [one] = await mail_to(module_mailbox, address)
    second, second_cid = await notify(conn, student)
    third, third_cid = await notify(conn, student)
    # Not before the period is over: the schedule says so, however slow the machine (and the
    # gap between the digests, below, shows the sender kept to it).
    wait = await conn.fetchval(
        "SELECT extract(epoch FROM p.next_digest_at - d.created_at)"
        " FROM email_digest_preferences p JOIN email_digests d USING (user_id)"
        " WHERE p.user_id = $1",
        student,
    )
    assert wait >= TEST_PERIODS["hourly"]
    _, two = await mail_to(module_mailbox, address, 2)
    assert watch_links(bodies(one)[0]) == [link_of(first_cid)]
    assert watch_links(bodies(two)[0]) == [link_of(third_cid), link_of(second_cid)]
    made = await conn.fetch(
        "SELECT created_at FROM email_digests WHERE user_id = $1 ORDER BY id", student
    )
    gap = (made[1]["created_at"] - made[0]["created_at"]).total_seconds()
    assert gap >= TEST_PERIODS["hourly"]
    owners = await conn.fetch(
        "SELECT notification_id, digest_id FROM email_digest_items WHERE notification_id = ANY($1)",
        [first, second, third],
    )
    assert len(owners) == 3
    assert len({row["digest_id"] for row in owners}) == 2


async def test_a_refused_send_is_retried_and_sent_once(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"r-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    missed, cid = await notify(conn, student)
    before = module_mailbox.data_commands
    module_mailbox.refuse_next_data("451 4.3.0 Try again later")
    await make_due(conn, student)
    [message] = await mail_to(module_mailbox, address)
    await recorded(conn, student)
    assert watch_links(bodies(message)[0]) == [link_of(cid)]
    assert module_mailbox.data_commands == before + 2  # refused once, then accepted
    row = await conn.fetchrow(
        "SELECT state, attempts, last_error FROM email_digests WHERE user_id = $1", student
    )
    assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert await conn.fetchval("SELECT delivered_via FROM notifications WHERE id = $1", missed) == (
        "email"
    )
    await asyncio.sleep(0.5)  # the sender's retry delay and more: nothing is sent again
    assert len(digests_to(module_mailbox, address)) == 1


EMAILED_FIRST = r'vividly_notifications_first_delivered_total\{channel="email"\}'


async def emailed_first(server: RunningServer) -> float:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        return value((await client.get("/metrics")).text, EMAILED_FIRST)


async def test_the_notifications_a_digest_delivered_first_are_counted(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"m-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    await notify(conn, student)
    await notify(conn, student)
    before = await emailed_first(server)
    await make_due(conn, student)
    await mail_to(module_mailbox, address)
    await recorded(conn, student)
    await until(lambda: _at_least(emailed_first(server), before + 2), "counted in /metrics")
    assert await emailed_first(server) == before + 2


async def test_an_address_refused_for_good_is_shown_to_the_student(
    server: RunningServer,
    module_mailbox: Mailbox,
    conn: asyncpg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    student = uuid.uuid4()
    address = f"gone-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    await notify(conn, student)
    await make_due(conn, student)
    await mail_to(module_mailbox, address)
    await recorded(conn, student)
    # (The mailbox went away since.) Like Postfix, the refusal quotes the address.
    module_mailbox.refuse_rcpt[address] = f"550 5.1.1 <{address}>: No such user"
    await notify(conn, student)
    await make_due(conn, student)

    async def failed() -> Any:
        return await conn.fetchrow(
            "SELECT attempts, last_error FROM email_digests"
            " WHERE user_id = $1 AND state = 'failed'",
            student,
        )

    row = await until(failed, "the digest failed for good")
    assert row["attempts"] == 1
    assert "550" in row["last_error"]
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        preference = (await client.get(PREFS, headers=auth(server, student))).json()
    assert "No such user" in preference["last_error"]  # the student sees why
    # The sender logs the refusal, and the log lines never carry the address.
    [logged] = [r for r in caplog.records if "refused for good" in r.getMessage()]
    assert address in logged.getMessage()
    line = logs.formatter().format(logged)
    assert "550 5.1.1 <[email]>: No such user" in line
    assert address not in line
    assert preference["last_sent_at"] is not None
    # Deleting the preference forgets what may quote the address: errors and server replies.
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        assert (await client.delete(PREFS, headers=auth(server, student))).status_code == 204
    kept = await conn.fetch(
        "SELECT state, last_error, smtp_reply FROM email_digests WHERE user_id = $1 ORDER BY id",
        student,
    )
    assert [tuple(row) for row in kept] == [("sent", None, "accepted"), ("failed", None, None)]


@pytest.mark.parametrize("stop", ["opt out", "delete"])
async def test_a_digest_being_retried_is_not_sent_after_the_student_stops(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection, stop: str
) -> None:
    student = uuid.uuid4()
    address = f"stop-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    await notify(conn, student)
    module_mailbox.refuse_next_data(*["451 4.3.0 Busy"] * 1000)
    try:
        await make_due(conn, student)
        retried = (
            "SELECT count(*) FROM email_digests"
            " WHERE user_id = $1 AND state = 'pending' AND attempts >= 1"
        )
        await until(lambda: _at_least(conn.fetchval(retried, student), 1), "a refused attempt")
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            if stop == "opt out":
                response = await client.put(
                    PREFS,
                    json={"email": address, "period": "weekly", "opted_in": False},
                    headers=auth(server, student),
                )
                assert response.status_code == 200
                assert response.json()["opted_in"] is False
            else:
                response = await client.delete(PREFS, headers=auth(server, student))
                assert response.status_code == 204
    finally:
        module_mailbox.stop_refusing()
    state = "SELECT state FROM email_digests WHERE user_id = $1"
    await until(lambda: _is(conn.fetchval(state, student), "cancelled"), "the digest was cancelled")
    await asyncio.sleep(0.6)  # the sender's retry delay, and more
    assert not digests_to(module_mailbox, address)


async def _is(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-address", "period": "daily"},
        {"email": "two@example.com, three@example.com", "period": "daily"},
        {"email": "Name <name@example.com>", "period": "daily"},
        {"email": "a@localhost", "period": "daily"},
        {"email": "a..b@example.com", "period": "daily"},
        {"email": "x" * 250 + "@example.com", "period": "daily"},
        {"email": "line@example.com\r\nBcc: evil@example.com", "period": "daily"},
        {"email": "ok@example.com", "period": "monthly"},
        {"email": "ok@example.com", "period": "daily", "extra": 1},
        {"email": None, "period": "daily"},
        {"period": "daily"},
    ],
)
async def test_a_bad_preference_is_a_422_and_changes_nothing(
    server: RunningServer, body: dict[str, Any]
) -> None:
    student = uuid.uuid4()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        await client.put(
            PREFS,
            json={"email": "kept@example.com", "period": "weekly"},
            headers=auth(server, student),
        )
        response = await client.put(PREFS, json=body, headers=auth(server, student))
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/json"
        assert response.json()["detail"]
        after = (await client.get(PREFS, headers=auth(server, student))).json()
    assert (after["email"], after["period"], after["opted_in"]) == (
        "kept@example.com",
        "weekly",
        True,
    )


async def test_preferences_are_read_set_and_deleted_per_student(server: RunningServer) -> None:
    student, other = uuid.uuid4(), uuid.uuid4()
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        empty = (await client.get(PREFS, headers=auth(server, student))).json()
        assert empty == {
            "available": True,
            "email": None,
            "period": "daily",
            "opted_in": False,
            "next_digest_at": None,
            "last_sent_at": None,
            "last_error": None,
            "confirmed": False,
            "confirmation_sent_at": None,
            "confirmation_error": None,
        }
        response = await client.put(
            PREFS,
            json={"email": "Student@EXAMPLE.com", "period": "daily"},
            headers=auth(server, student),
        )
        assert response.status_code == 200
        stored = response.json()
        assert (stored["email"], stored["opted_in"]) == ("Student@example.com", True)
        assert stored["next_digest_at"] is not None
        assert (await client.get(PREFS, headers=auth(server, other))).json() == empty
        assert (await client.get(PREFS)).status_code == 401
        assert (await client.delete(PREFS, headers=auth(server, student))).status_code == 204
        assert (await client.get(PREFS, headers=auth(server, student))).json() == empty


async def test_the_unsubscribe_link_asks_on_get_and_unsubscribes_on_post(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"u-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    await notify(conn, student)
    await make_due(conn, student)
    [message] = await mail_to(module_mailbox, address)
    url = urlsplit(message["List-Unsubscribe"].strip("<>"))
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
        preference = (await client.get(PREFS, headers=auth(server, student))).json()
    assert (preference["email"], preference["opted_in"]) == (address, False)

    await notify(conn, student)
    await conn.execute(
        "UPDATE email_digest_preferences SET next_digest_at = now() WHERE user_id = $1", student
    )
    await asyncio.sleep(0.6)  # several sender passes
    assert len(digests_to(module_mailbox, address)) == 1


def _tampered(token: str) -> list[str]:
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    in_payload = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    return [flipped, in_payload, token[:-1], token + "x", "", "a.b.c", "x" * 600]


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
            assert "no token" in bare.text
            assert "text/html" in bare.headers["content-type"]
    assert await conn.fetchval(
        "SELECT opted_in FROM email_digest_preferences WHERE user_id = $1", student
    )
    [in_url] = parse_qs(urlsplit(links.url(student, address)).query)["token"]
    assert links.is_for(links.verify(in_url), address)


async def test_double_opt_in_a_digest_goes_only_to_a_confirmed_address(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"c-{student.hex[:8]}@example.com"
    changed = f"c2-{student.hex[:8]}@example.com"
    headers = auth(server, student)
    body = {"email": address, "period": "weekly"}
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        stored = (await client.put(PREFS, json=body, headers=headers)).json()
        assert (stored["confirmed"], stored["confirmation_error"]) == (False, None)
        assert stored["confirmation_sent_at"] is not None
        [mail] = await until(lambda: confirmations_to(module_mailbox, address), "the confirmation")
        link = confirm_link(mail)
        # Unconfirmed: nothing is mailed, however due.
        await notify(conn, student)
        await make_due(conn, student)
        await asyncio.sleep(0.6)  # several of the sender's polls
        assert not digests_to(module_mailbox, address)
        # Asking again at once (or PUTting again) mails nothing more: once per 10 minutes.
        again = await client.post(f"{PREFS}/confirmation", headers=headers)
        assert again.status_code == 429
        assert 590 <= int(again.headers["Retry-After"]) <= 600
        await client.put(PREFS, json=body, headers=headers)
        assert len(confirmations_to(module_mailbox, address)) == 1
        # A scanner (or a person) opening the link: a page with a button, nothing changed.
        page = await client.get(link, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "form" in parse_html(page.text).tags
        assert address not in page.text
        assert (await client.get(PREFS, headers=headers)).json()["confirmed"] is False
        # The button: confirmed, and the digest comes.
        confirmed = await client.post(link)
        assert confirmed.json()["confirmed"] is True
        assert (await client.get(PREFS, headers=headers)).json()["confirmed"] is True
        await make_due(conn, student)
        await mail_to(module_mailbox, address)
        # A new address must be confirmed again; the old link cannot confirm it.
        moved = (await client.put(PREFS, json={**body, "email": changed}, headers=headers)).json()
        assert moved["confirmed"] is False
        assert not confirmations_to(module_mailbox, changed)  # the 10 minutes are the student's
        gone = await client.post(link)
        assert gone.status_code == 410
        assert (await client.get(PREFS, headers=headers)).json()["confirmed"] is False
        await conn.execute(
            "UPDATE email_confirmation_sends SET sent_at = sent_at - interval '10 minutes'"
            " WHERE user_id = $1",
            student,
        )  # as if 10 minutes had passed
        resent = await client.post(f"{PREFS}/confirmation", headers=headers)
        assert resent.status_code == 200, resent.text
        [second] = await until(
            lambda: confirmations_to(module_mailbox, changed), "the new confirmation"
        )
        await notify(conn, student)
        await make_due(conn, student)
        await asyncio.sleep(0.6)
        assert not digests_to(module_mailbox, changed)
        assert (await client.post(confirm_link(second))).json()["confirmed"] is True
        await make_due(conn, student)
        await mail_to(module_mailbox, changed)
        # Nothing to confirm any more.
        done = await client.post(f"{PREFS}/confirmation", headers=headers)
        assert done.status_code == 409


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


OPEN = "/api/v1/digest/open"


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
