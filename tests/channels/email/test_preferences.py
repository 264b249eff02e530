"""A student's digest preference over the API: read, set, deleted, bad input refused, and the
double opt-in before any digest is sent."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.digest import (
    confirm_link,
    confirmations_to,
    digests_to,
    make_due,
    notify,
    parse_html,
)
from tests.support.digest_api import (
    PREFS,
    auth,
    mail_to,
)
from tests.support.mailbox import Mailbox
from tests.support.server import RunningServer
from tests.support.waiting import until


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
        {"email": "=?utf-8?q?bob?=@example.com", "period": "daily"},  # To: would read bob@
        {"email": "=?utf-8?q?a=0D=0A=0D=0Ab?=@example.com", "period": "daily"},
        {"email": "ok@example.com", "period": "daily", "locale": "not a tag"},
        {"email": "ok@example.com", "period": "daily", "locale": "en-" + "x" * 40},
        {"email": "ok@example.com", "period": "daily", "locale": "de\r\nX: y"},
        {"email": "ok@example.com", "period": "daily", "time_zone": "Mars/Olympus_Mons"},
        {"email": "ok@example.com", "period": "daily", "time_zone": "../../etc/passwd"},
        {"email": "ok@example.com", "period": "daily", "time_zone": ""},
        {"email": "ok@example.com", "period": "daily", "time_zone": "Europe/" + "x" * 80},
        {"email": "ok@example.com", "period": "daily", "time_zone": 3},
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
            "suspended": False,
            "suspended_reason": None,
            "locale": None,
            "time_zone": None,
            "opted_out_at": None,
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


async def test_the_students_language_is_what_they_said_else_their_browsers(
    server: RunningServer,
) -> None:
    student = uuid.uuid4()
    headers = auth(server, student)
    body = {"email": f"l-{student.hex[:8]}@example.com", "period": "daily"}
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        browser = {**headers, "Accept-Language": "*;q=0.9, pt-BR;q=0.8, en;q=0.5"}
        first = await client.put(PREFS, json=body, headers=browser)
        assert first.json()["locale"] == "pt-BR"
        # A request that names none keeps it; one that says a language replaces it.
        kept = await client.put(PREFS, json=body, headers=headers)
        assert kept.json()["locale"] == "pt-BR"
        said = await client.put(PREFS, json={**body, "locale": "uk"}, headers=browser)
        assert said.json()["locale"] == "uk"
        assert (await client.get(PREFS, headers=headers)).json()["locale"] == "uk"


async def test_the_students_time_zone_is_kept_until_another_is_said(
    server: RunningServer,
) -> None:
    student = uuid.uuid4()
    headers = auth(server, student)
    body = {"email": f"tz-{student.hex[:8]}@example.com", "period": "daily"}
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        first = await client.put(
            PREFS, json={**body, "time_zone": "Europe/Lisbon"}, headers=headers
        )
        assert first.status_code == 200
        assert first.json()["time_zone"] == "Europe/Lisbon"
        kept = await client.put(PREFS, json=body, headers=headers)
        assert kept.json()["time_zone"] == "Europe/Lisbon"
        said = await client.put(PREFS, json={**body, "time_zone": "Asia/Tokyo"}, headers=headers)
        assert said.json()["time_zone"] == "Asia/Tokyo"
        assert (await client.get(PREFS, headers=headers)).json()["time_zone"] == "Asia/Tokyo"


async def test_when_the_digest_was_turned_off_is_said_until_it_is_on_again(
    server: RunningServer,
) -> None:
    student = uuid.uuid4()
    headers = auth(server, student)
    body = {"email": f"off-{student.hex[:8]}@example.com", "period": "daily"}
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        on = (await client.put(PREFS, json=body, headers=headers)).json()
        assert on["opted_out_at"] is None
        off = (await client.put(PREFS, json={**body, "opted_in": False}, headers=headers)).json()
        assert off["opted_out_at"] is not None
        again = (await client.put(PREFS, json={**body, "opted_in": False}, headers=headers)).json()
        assert again["opted_out_at"] == off["opted_out_at"]  # when it went off, not the latest save
        back = (await client.put(PREFS, json=body, headers=headers)).json()
        assert back["opted_out_at"] is None
