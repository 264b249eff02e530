"""The digest outbox under concurrency and crashes: senders racing, a sender dying mid-send, a
restart, and a server without SMTP_HOST. No app runs a sender on this module's database unless a
test starts one."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from db.pool import create_pool
from service.channels.email import sql as email_sql
from service.channels.email.schedule import make_due_digests
from service.settings import Settings
from tests.support.digest import (
    digest_settings,
    link_of,
    notify,
    plain,
    sender,
    subscribe,
    watch_links,
)
from tests.support.mailbox import Mailbox
from tests.support.server import running_server, settings_for
from tests.support.waiting import until


@pytest.fixture
def settings(database_url: str, mailbox: Mailbox) -> Settings:
    return digest_settings(database_url, mailbox)


@pytest.fixture
async def pools(database_url: str) -> AsyncIterator[list[asyncpg.Pool]]:
    """Two pools: what two API processes would have."""
    opened = [await create_pool(database_url, max_size=3) for _ in range(2)]
    yield opened
    for pool in opened:
        await pool.close()


async def test_two_senders_racing_send_each_notification_once(
    settings: Settings, pools: list[asyncpg.Pool], conn: asyncpg.Connection, mailbox: Mailbox
) -> None:
    students: dict[uuid.UUID, list[str]] = {uuid.uuid4(): [] for _ in range(12)}
    for student, links in students.items():
        await subscribe(conn, student, f"race-{student.hex[:8]}@example.com")
        for _ in range(3):
            _, cid = await notify(conn, student)
            links.append(link_of(cid))
    first, second = sender(pools[0], settings), sender(pools[1], settings)
    for _ in range(3):  # both make and send at the same moments, three passes
        await asyncio.gather(first.run_once(), second.run_once())

    assert len(mailbox.received) == len(students)
    for student, links in students.items():
        [message] = mailbox.to(f"race-{student.hex[:8]}@example.com")
        assert sorted(watch_links(plain(message))) == sorted(links)
    every_link = Counter(
        link for received in mailbox.received for link in watch_links(plain(received.message))
    )
    assert set(every_link.values()) == {1}
    states = await conn.fetch(
        "SELECT state, attempts FROM email_digests WHERE user_id = ANY($1)", list(students)
    )
    assert [(row["state"], row["attempts"]) for row in states] == [("sent", 1)] * len(students)


async def test_a_digest_whose_sender_died_is_sent_once_by_another(
    settings: Settings, pools: list[asyncpg.Pool], conn: asyncpg.Connection, mailbox: Mailbox
) -> None:
    student = uuid.uuid4()
    address = f"crash-{student.hex[:8]}@example.com"
    await subscribe(conn, student, address)
    missed, cid = await notify(conn, student)
    # A sender makes the digest, claims it with a short lease, and dies before sending.
    [digest] = await make_due_digests(pools[0], settings)
    claim = await conn.fetchrow(email_sql.CLAIM_DIGEST_SEND, "dead-sender", 0.5)
    assert claim["id"] == digest

    restarted = sender(pools[1], settings)
    assert await restarted.run_once() == 0  # the lease still holds: nobody else sends it
    await asyncio.sleep(0.6)
    assert await restarted.run_once() == 1
    [message] = mailbox.to(address)
    assert watch_links(plain(message)) == [link_of(cid)]
    # The dead sender's late write changes nothing: its claim (attempt 1) was taken over.
    late = await conn.fetchval(email_sql.DIGEST_SENT, digest, "dead-sender", 1, "250 late", 1, 60.0)
    assert late == 0
    row = await conn.fetchrow(
        "SELECT state, attempts, smtp_reply FROM email_digests WHERE id = $1", digest
    )
    assert (row["state"], row["attempts"]) == ("sent", 2)
    assert "late" not in row["smtp_reply"]

    # After a restart (new senders), nothing is sent again.
    again = sender(pools[0], settings)
    assert await again.run_once() == 0
    assert len(mailbox.to(address)) == 1
    assert (
        await conn.fetchval("SELECT delivered_via FROM notifications WHERE id = $1", missed)
        == "email"
    )


async def test_off_when_smtp_host_is_unset(
    database_url: str, conn: asyncpg.Connection, mailbox: Mailbox
) -> None:
    student = uuid.uuid4()
    address = f"off-{student.hex[:8]}@example.com"
    await subscribe(conn, student, address)
    await notify(conn, student)
    off = settings_for(database_url, digest_poll_seconds=0.1, digest_min_age_seconds=0)
    assert off.smtp_host is None
    async with running_server(off) as server:
        token = server.token(student)
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            headers = {"Authorization": f"Bearer {token}"}
            refused = await client.put(
                "/api/v1/digest/preferences",
                json={"email": "new@example.com", "period": "hourly"},
                headers=headers,
            )
            assert refused.status_code == 409
            assert "SMTP_HOST" in refused.json()["detail"]
            shown = (await client.get("/api/v1/digest/preferences", headers=headers)).json()
        assert (shown["available"], shown["email"], shown["next_digest_at"]) == (
            False,
            address,
            None,
        )
        await asyncio.sleep(0.5)  # several poll periods
    assert not mailbox.received
    assert (
        await conn.fetchval("SELECT count(*) FROM email_digests WHERE user_id = $1", student) == 0
    )
    # The same database with SMTP_HOST set: the waiting digest goes out.
    with_smtp = digest_settings(database_url, mailbox)
    async with running_server(with_smtp):
        await until(lambda: mailbox.to(address), "the digest was sent", timeout=10)
