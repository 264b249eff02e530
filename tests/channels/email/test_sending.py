"""The email digest sent end to end: what it lists and how, one per period, retries, refusals,
and a student who stops meanwhile (the served app's sender, a real SMTP server on loopback).

Periods are seconds long here (`TEST_PERIODS`); a test that is not about the period makes a
student's digest due at once with SQL (`make_due`)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from service.runtime import logs
from tests.support.digest import (
    TEST_PERIODS,
    digests_to,
    link_of,
    make_due,
    notify,
    open_links,
    parse_html,
    watch_links,
)
from tests.support.digest_api import (
    PREFS,
    _at_least,
    _is,
    auth,
    bodies,
    emailed_first,
    mail_to,
    opt_in,
    recorded,
)
from tests.support.mailbox import Mailbox
from tests.support.server import RunningServer
from tests.support.waiting import until


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
    # What needs the student first: the clarifying question (no title: its heading).
    assert message["Subject"] == "We need a bit more detail, and 2 more"
    assert message["Message-ID"].endswith("@example.com>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = message["List-Unsubscribe"].split(",")[0].strip("<>")
    assert unsubscribe_url.startswith("https://notify.example/api/v1/digest/unsubscribe?token=")
    # On the wire as mail clients read it: the URL whole, on one line, not RFC 2047-encoded.
    [_confirmation, raw] = module_mailbox.raw_to(address)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert f"\r\nList-Unsubscribe: <{unsubscribe_url}>, <mailto:" in head
    assert "=?" not in head
    assert all(len(line) <= 998 for line in head.split("\r\n"))

    text, html = bodies(message)
    expected = [link_of(pushed_cid), link_of(question_cid), link_of(missed_cid)]  # newest first
    assert watch_links(text) == expected
    assert unsubscribe_url in text
    assert "Fake: line" in text
    assert "\nFake: line" not in text
    page = parse_html(html)
    app = "https://notify.example/"
    # Each row's thumbnail, title (when it has one) and button share its open link.
    once = list(dict.fromkeys(page.hrefs))
    assert once == [*open_links(text), app, f"{app}preferences", unsubscribe_url]
    assert all(page.hrefs.count(link) >= 2 for link in open_links(text))
    assert "script" not in page.tags
    assert "b" not in page.tags
    # Escaped as text (the inliner writes the quotes of a text node as they are: no markup).
    assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; "Plants"' in html
    assert "<script" not in html
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
