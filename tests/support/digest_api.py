"""Shared by the email digest API tests: opting a student in, waiting for mail, reading bodies."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import asyncpg
import httpx

from tests.support.digest import (
    confirm_link,
    confirmations_to,
    digests_to,
)
from tests.support.mailbox import Mailbox
from tests.support.metrics import value
from tests.support.server import RunningServer
from tests.support.waiting import until

PREFS = "/api/v1/digest/preferences"


UNSUBSCRIBE = "/api/v1/digest/unsubscribe"


EMAILED_FIRST = r'vividly_notifications_first_delivered_total\{channel="email"\}'


OPEN = "/api/v1/digest/open"


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


async def emailed_first(server: RunningServer) -> float:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        return value((await client.get("/metrics")).text, EMAILED_FIRST)


async def _is(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


def _tampered(token: str) -> list[str]:
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    in_payload = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    return [flipped, in_payload, token[:-1], token + "x", "", "a.b.c", "x" * 600]
