"""Confirmation emails cannot be used to flood a mailbox, and a link confirms only its address.

The limits (service/channels/email/confirmation.py): one per student per 10 minutes whatever the
address, and 3 a day per mailbox whoever asks; neither lifted by deleting the preference nor by
a relay that failed. A confirmation link names the exact address it was mailed to
(service/channels/email/signed_links.py): `x@strasse.de` and `x@straße.de` are different domains.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from service.channels.email.addresses import mailbox_key
from service.channels.email.confirmation import PER_ADDRESS_PER_DAY
from service.channels.email.signed_links import ConfirmLinks, UnsubscribeLinks
from service.settings import Settings
from tests.support.digest import confirm_link, confirmations_to, digest_settings
from tests.support.mailbox import Mailbox
from tests.support.ports import free_port
from tests.support.server import RunningServer, running_server
from tests.support.waiting import until

PREFS = "/api/v1/digest/preferences"
RESEND = f"{PREFS}/confirmation"


def client_for(base_url: str, settings: Settings, user: uuid.UUID) -> httpx.AsyncClient:
    from service.http.auth import mint_token

    token = mint_token(user, settings)
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"})


async def put(client: httpx.AsyncClient, address: str) -> dict[str, Any]:
    response = await client.put(PREFS, json={"email": address, "period": "daily"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_deleting_the_preference_does_not_lift_the_limit(
    server: RunningServer, module_mailbox: Mailbox
) -> None:
    victim = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    async with client_for(server.base_url, server.settings, uuid.uuid4()) as attacker:
        first = await put(attacker, victim)
        assert first["confirmation_error"] is None
        for _ in range(10):
            assert (await attacker.delete(PREFS)).status_code == 204
            again = await put(attacker, victim)
            assert "10 minutes" in again["confirmation_error"]
        assert (await attacker.delete(PREFS)).status_code == 204
        await put(attacker, victim)
        resend = await attacker.post(RESEND)
        assert resend.status_code == 429
        assert 1 <= int(resend.headers["Retry-After"]) <= 600
    await until(lambda: confirmations_to(module_mailbox, victim), "the one confirmation")
    assert len(confirmations_to(module_mailbox, victim)) == 1


async def test_an_address_gets_at_most_three_a_day_whoever_asks(
    server: RunningServer, module_mailbox: Mailbox
) -> None:
    tag = uuid.uuid4().hex[:8]
    victim = f"many-{tag}@example.com"
    variants = [victim, f"Many-{tag}@example.com", f"many-{tag}+x@example.com", victim, victim]
    problems = []
    for address in variants:  # five students, one mailbox (case and +tag variants are one)
        async with client_for(server.base_url, server.settings, uuid.uuid4()) as student:
            problems.append((await put(student, address))["confirmation_error"])
            if problems[-1] is not None:
                resend = await student.post(RESEND)
                assert resend.status_code == 429
                assert int(resend.headers["Retry-After"]) > 600  # hours, not minutes
    assert problems[:PER_ADDRESS_PER_DAY] == [None] * PER_ADDRESS_PER_DAY
    for problem in problems[PER_ADDRESS_PER_DAY:]:
        assert "as many confirmation emails as it may get in a day" in problem
    delivered = sum(
        len(confirmations_to(module_mailbox, address)) for address in sorted(set(variants))
    )
    assert delivered == PER_ADDRESS_PER_DAY


def test_the_mailbox_key_joins_what_one_mailbox_receives() -> None:
    assert mailbox_key("Ann.Lee+school@Example.com") == "ann.lee@example.com"
    assert mailbox_key("x@straße.de") == "x@xn--strae-oqa.de"
    assert mailbox_key("x@straße.de") != mailbox_key("x@strasse.de")
    assert mailbox_key("+only@example.com") == "+only@example.com"


async def test_a_relay_that_is_down_is_said_plainly_and_keeps_the_limit(
    database_url: str, module_mailbox: Mailbox
) -> None:
    down = digest_settings(database_url, module_mailbox, smtp_port=free_port())
    async with running_server(down) as server:
        address = f"down-{uuid.uuid4().hex[:8]}@example.com"
        async with client_for(server.base_url, server.settings, uuid.uuid4()) as student:
            problem = (await put(student, address))["confirmation_error"]
            assert problem.startswith("the mail server could not be reached just now")
            for word in ("SMTP", "Error", "127.0.0.1", str(down.smtp_port)):
                assert word not in problem
            again = await student.post(RESEND)  # the relay is not tried again at once
            assert again.status_code == 429
            assert "10 minutes" in again.json()["detail"]
            assert "10 minutes" in (await put(student, address))["confirmation_error"]


async def test_a_link_confirms_only_the_exact_address_it_was_mailed_to(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    local = f"x{uuid.uuid4().hex[:6]}"
    async with client_for(server.base_url, server.settings, student) as client:
        await put(client, f"{local}@strasse.de")
        [mail] = await until(
            lambda: confirmations_to(module_mailbox, f"{local}@strasse.de"), "the confirmation"
        )
        link = confirm_link(mail)
        await put(client, f"{local}@straße.de")  # casefold() makes both "...@strasse.de"
        refused = await client.post(link)
        assert refused.status_code == 410, refused.text
        assert (await client.get(PREFS)).json()["confirmed"] is False
    assert (
        await conn.fetchval(
            "SELECT confirmed_at FROM email_digest_preferences WHERE user_id = $1", student
        )
        is None
    )


def test_unsubscribe_and_confirm_fingerprints_are_exact(server_settings: Settings) -> None:
    links = UnsubscribeLinks.from_settings(server_settings)
    confirm = ConfirmLinks.from_settings(server_settings)
    assert links is not None
    assert confirm is not None
    user = uuid.uuid4()
    for kind in (links, confirm):
        named = kind.verify(kind.token(user, "x@strasse.de"))
        assert kind.is_for(named, "x@strasse.de")
        for other in ("x@straße.de", "X@strasse.de", "x@STRASSE.de"):
            assert not kind.is_for(named, other)
    # A two-part unsubscribe token mailed before exact fingerprints still unsubscribes an ASCII
    # address (folding joins only letter case there), never a non-ASCII one.
    legacy = links._serializer.dumps([str(user), links.legacy_fingerprint("x@strasse.de")])
    assert links.is_for(links.verify(legacy), "x@strasse.de")
    assert not links.is_for(links.verify(legacy), "x@straße.de")
    old_confirm = confirm._serializer.dumps([str(user), confirm.legacy_fingerprint("x@a.de")])
    with pytest.raises(Exception, match="Ask for a new one"):
        confirm.verify(old_confirm)
