"""The outbox's rules over a digest's life, driven pass by pass against a real SMTP server: only
what is listed is claimed, what ends unsent is released, refusals end or back off (and give up),
an outage costs one attempt per pass, two digests never go out back to back, and one bad digest
never stops the others."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from db.pool import create_pool
from service.channels.email.schedule import make_due_digests
from service.channels.email.sender import DigestSender, backoff
from service.channels.email.signed_links import UnsubscribeLinks
from service.notifications.deliveries import ReachCounts
from service.settings import Settings
from tests.support.digest import (
    TEST_PERIODS,
    digest_settings,
    link_of,
    make_due,
    notify,
    plain,
    sender,
    subscribe,
    watch_links,
)
from tests.support.mailbox import Mailbox
from tests.support.ports import free_port


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    opened = await create_pool(database_url, max_size=3)
    yield opened
    await opened.close()


def student_address(prefix: str) -> tuple[uuid.UUID, str]:
    student = uuid.uuid4()
    return student, f"{prefix}-{student.hex[:8]}@example.com"


async def digests(conn: asyncpg.Connection, student: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, state, attempts, last_error, next_attempt_at > now() AS later,"
        " (SELECT count(*) FROM email_digest_items i WHERE i.digest_id = d.id) AS items"
        " FROM email_digests d WHERE user_id = $1 ORDER BY id",
        student,
    )
    return rows


async def test_only_the_listed_notifications_are_claimed_the_rest_wait(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox, digest_max_items=2)
    student, address = student_address("max")
    await subscribe(conn, student, address)
    cids = [(await notify(conn, student))[1] for _ in range(5)]
    for _ in range(3):
        await sender(pool, settings).run_once()
        await make_due(conn, student)
    first, second, third = mailbox.to(address)
    assert watch_links(plain(first)) == [link_of(cids[4]), link_of(cids[3])]
    assert "... and 3 more" in plain(first)
    assert watch_links(plain(second)) == [link_of(cids[2]), link_of(cids[1])]
    assert watch_links(plain(third)) == [link_of(cids[0])]
    via = await conn.fetch("SELECT delivered_via FROM notifications WHERE user_id = $1", student)
    assert {row["delivered_via"] for row in via} == {"email"}


async def test_notifications_from_before_opting_in_are_neither_listed_nor_counted(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox)
    student, address = student_address("before")
    for _ in range(3):
        await notify(conn, student)
    await subscribe(conn, student, address)
    await conn.execute(  # opted in after those three, before the fourth
        "UPDATE email_digest_preferences SET opted_in_at = clock_timestamp() WHERE user_id = $1",
        student,
    )
    _, after = await notify(conn, student)
    await sender(pool, settings).run_once()
    [message] = mailbox.to(address)
    assert watch_links(plain(message)) == [link_of(after)]
    assert "... and" not in plain(message)
    assert message["Subject"] == "Your video on 'Photosynthesis' is ready"  # one: no "and N more"


async def test_delivered_at_is_the_databases_clock_the_instant_the_digest_was_sent(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox)
    student, address = student_address("clock")
    await subscribe(conn, student, address)
    for _ in range(2):
        await notify(conn, student)
    await sender(pool, settings).run_once()
    sent_at = await conn.fetchval("SELECT sent_at FROM email_digests WHERE user_id = $1", student)
    rows = await conn.fetch(
        "SELECT delivered_at, delivered_via FROM notifications WHERE user_id = $1", student
    )
    assert [(row["delivered_at"], row["delivered_via"]) for row in rows] == [(sent_at, "email")] * 2


async def test_each_attempts_outcome_is_counted_for_metrics(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    slow_retries = {"digest_retry_base_seconds": 60, "digest_retry_max_seconds": 60}
    settings = digest_settings(database_url, mailbox, **slow_retries)  # one attempt each
    reach = ReachCounts()
    students = {name: student_address(name) for name in ("ok", "busy", "gone", "left")}
    mailbox.refuse_rcpt[students["busy"][1]] = "450 4.2.0 Mailbox busy"
    mailbox.refuse_rcpt[students["gone"][1]] = "550 5.1.1 No such user"
    for student, address in students.values():
        await subscribe(conn, student, address)
        await notify(conn, student)
    await make_due_digests(pool, settings)
    await conn.execute(
        "UPDATE email_digest_preferences SET opted_in = false WHERE user_id = $1",
        students["left"][0],
    )
    links = UnsubscribeLinks.from_settings(settings)
    assert links is not None
    await DigestSender(pool, settings, links, reach).run_once()
    assert reach.digests == {"sent": 1, "retried": 1, "failed": 1, "cancelled": 1}
    assert reach.first_delivered == {"email": 1}


async def test_a_digest_refused_for_good_releases_its_notifications(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox)
    student, typo = student_address("typo")
    good = typo.replace("typo", "good")
    mailbox.refuse_rcpt[typo] = "550 5.1.1 No such user"
    await subscribe(conn, student, typo)
    _, first = await notify(conn, student)
    await sender(pool, settings).run_once()
    [failed] = await digests(conn, student)
    assert (failed["state"], failed["items"]) == ("failed", 0)
    await conn.execute(
        "UPDATE email_digest_preferences SET address = $2 WHERE user_id = $1", student, good
    )
    _, second = await notify(conn, student)
    await make_due(conn, student)
    await sender(pool, settings).run_once()
    [message] = mailbox.to(good)
    assert watch_links(plain(message)) == [link_of(second), link_of(first)]


async def test_a_5xx_reply_to_data_ends_the_digest_and_releases_it(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox)
    student, address = student_address("spam")
    await subscribe(conn, student, address)
    await notify(conn, student)
    mailbox.refuse_next_data("554 5.7.1 Rejected as spam")
    await sender(pool, settings).run_once()
    [digest] = await digests(conn, student)
    assert (digest["state"], digest["attempts"], digest["items"]) == ("failed", 1, 0)
    assert "554" in digest["last_error"]


def test_the_backoff_is_capped_however_many_attempts(database_url: str) -> None:
    settings = digest_settings(database_url, Mailbox(port=25), digest_retry_max_seconds=3600)
    for attempts in (1, 2, 1025, 10**6):
        assert 0 < backoff(settings, attempts) <= 3600


async def test_a_digest_is_given_up_after_its_maximum_age_and_its_notifications_go_on(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox, digest_give_up_seconds=3600)
    student, address = student_address("old")
    await subscribe(conn, student, address)
    _, cid = await notify(conn, student)
    mailbox.refuse_next_data("451 4.3.0 Busy")
    await sender(pool, settings).run_once()
    [digest] = await digests(conn, student)
    assert (digest["state"], digest["later"]) == ("pending", True)
    # Thousands of attempts over two hours later (the old backoff overflowed past ~1025).
    await conn.execute(
        "UPDATE email_digests SET attempts = 5000, next_attempt_at = now(),"
        " created_at = now() - interval '2 hours' WHERE id = $1",
        digest["id"],
    )
    mailbox.refuse_next_data("451 4.3.0 Busy")
    await sender(pool, settings).run_once()
    [digest] = await digests(conn, student)
    assert (digest["state"], digest["items"]) == ("failed", 0)
    assert "given up after 5001 attempts" in digest["last_error"]
    await make_due(conn, student)
    await sender(pool, settings).run_once()
    [message] = mailbox.to(address)
    assert watch_links(plain(message)) == [link_of(cid)]


async def test_after_a_long_retry_chain_the_next_digest_waits_a_whole_period(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox)
    student, address = student_address("chain")
    await subscribe(conn, student, address, period="weekly")  # 3600 s here
    await notify(conn, student)
    mailbox.refuse_next_data("451 4.3.0 Busy")
    await sender(pool, settings).run_once()
    # The retries outlasted the period: the next digest was due before this one went out.
    await conn.execute(
        "UPDATE email_digests SET next_attempt_at = now() WHERE user_id = $1", student
    )
    await make_due(conn, student)
    await sender(pool, settings).run_once()
    assert len(mailbox.to(address)) == 1
    await notify(conn, student)
    await sender(pool, settings).run_once()
    assert len(mailbox.to(address)) == 1  # not a second digest right behind the first
    wait = await conn.fetchval(
        "SELECT extract(epoch FROM p.next_digest_at - d.sent_at)"
        " FROM email_digest_preferences p JOIN email_digests d USING (user_id)"
        " WHERE p.user_id = $1",
        student,
    )
    assert wait >= TEST_PERIODS["weekly"] - 1


async def test_an_smtp_outage_costs_one_attempt_per_pass_and_postpones_the_rest(
    database_url: str, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    down = Mailbox(port=free_port())  # nobody listens there
    settings = digest_settings(database_url, down)
    students = [student_address("down") for _ in range(3)]
    for student, address in students:
        await subscribe(conn, student, address)
        await notify(conn, student)
    assert await sender(pool, settings).run_once() == 1
    rows = [row for student, _ in students for row in await digests(conn, student)]
    assert sorted(row["attempts"] for row in rows) == [0, 0, 1]
    assert all(row["state"] == "pending" and row["later"] for row in rows)


class Flawed(DigestSender):
    """A sender with a bug that shows with one student's digest only."""

    def __init__(self, *args: Any, student: uuid.UUID) -> None:
        super().__init__(*args)
        self.student = student

    async def _attempt(self, mailer: Any, claim: Any, *args: Any) -> Any:
        if claim["user_id"] == self.student:
            raise UnicodeEncodeError("ascii", "ü", 0, 1, "a bug")
        return await super()._attempt(mailer, claim, *args)


async def test_one_digest_that_breaks_never_stops_the_others(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings: Settings = digest_settings(database_url, mailbox)
    (bad, bad_address), (good, good_address) = student_address("bad"), student_address("good")
    for student, address in ((bad, bad_address), (good, good_address)):
        await subscribe(conn, student, address)
        await notify(conn, student)
    plain_sender = sender(pool, settings)
    flawed = Flawed(pool, settings, plain_sender._links, student=bad)
    # Both in one pass (the shared database may hold other tests' due digests too).
    assert await flawed.run_once() >= 2
    assert len(mailbox.to(good_address)) == 1
    [digest] = await digests(conn, bad)
    assert (digest["state"], digest["later"]) == ("pending", True)
    assert "unexpected UnicodeEncodeError" in digest["last_error"]
