"""HEAD on the digest's links (open, unsubscribe, confirm) answers as GET does and changes
nothing: link checkers and mail scanners ask with HEAD (before: 405)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import asyncpg
import httpx

from tests.support.digest import confirm_link, confirmations_to, make_due, notify, open_links
from tests.support.digest_api import PREFS, auth, bodies, mail_to, opt_in
from tests.support.mailbox import Mailbox
from tests.support.server import RunningServer
from tests.support.waiting import until

STATE = "SELECT opened_at, seen_at, read_at FROM notifications WHERE id = $1"
PREFERENCE = "SELECT opted_in, confirmed_at FROM email_digest_preferences WHERE user_id = $1"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_head_on_each_link_answers_like_get_and_changes_nothing(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"h-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    notification, _ = await notify(conn, student)
    await make_due(conn, student)
    [message] = await mail_to(module_mailbox, address)
    [open_url] = open_links(bodies(message)[0])
    unsubscribe_url = message["List-Unsubscribe"].split(",")[0].strip("<>")
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        # Another student's new address, unconfirmed: mailed a confirmation link.
        newcomer = uuid.uuid4()
        other = f"n-{newcomer.hex[:8]}@example.com"
        changed = await client.put(
            PREFS, json={"email": other, "period": "weekly"}, headers=auth(server, newcomer)
        )
        assert changed.status_code == 200, changed.text
        [confirmation] = await until(
            lambda: confirmations_to(module_mailbox, other), "the confirmation email"
        )
        rows = (STATE, notification), (PREFERENCE, student), (PREFERENCE, newcomer)
        before = [await conn.fetchrow(*row) for row in rows]
        for url in (open_url, unsubscribe_url, confirm_link(confirmation)):
            for accept in ("text/html", "application/json"):
                head = await client.head(path_of(url), headers={"Accept": accept})
                assert head.status_code != 405, url
                assert head.content == b""
                after = [await conn.fetchrow(*row) for row in rows]
                assert after == before, url  # nothing recorded, unsubscribed or confirmed
                if url == open_url:  # GET acts on this one: compare with its answer after
                    continue
                get = await client.get(path_of(url), headers={"Accept": accept})
                assert head.status_code == get.status_code == 200
                assert head.headers["content-type"] == get.headers["content-type"]
        head = await client.head(path_of(open_url))
        get = await client.get(path_of(open_url))
        assert head.status_code == get.status_code == 303
        assert head.headers["location"] == get.headers["location"]
        assert all((await conn.fetchrow(STATE, notification)).values())  # GET did record
        refused = await client.head("/api/v1/digest/open?token=forged")
        assert refused.status_code == 400
