"""The push dispatcher when the push service fails: gone, server errors, refusals, timeouts,
unsendable endpoints; each push at most once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from service.channels.push.dispatcher import Dispatcher
from service.channels.push.sender import Sender
from service.settings import Settings
from tests.support.ports import free_port
from tests.support.push import notify, subscribe
from tests.support.push_dispatch import delivery, dispatching, insert_subscription, push_row
from tests.support.push_standin import StandIn
from tests.support.waiting import until


async def test_gone_removes_the_subscription(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    standin.script[browser.path] = [410]
    notification_id = await notify(conn, user)
    async with dispatching(pool, push_settings):
        await standin.wait_for(browser.path, 1)

        async def removed() -> bool:
            return not await conn.fetchval(
                "SELECT count(*) FROM push_subscriptions WHERE endpoint = $1", browser.endpoint
            )

        await until(removed, "the subscription is removed")
    assert (await delivery(conn, notification_id))["delivered_at"] is None
    assert len(standin.for_path(browser.path)) == 1


async def test_server_error_is_retried_then_pushed_once(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    standin.script[browser.path] = [500, 503]
    notification_id = await notify(conn, user)
    async with dispatching(pool, push_settings) as dispatcher:
        received = await standin.wait_for(browser.path, 3)
        await until(
            lambda: conn.fetchval(
                "SELECT state = 'sent' FROM push_deliveries WHERE notification_id = $1",
                notification_id,
            ),
            "the third attempt is recorded",
        )
        for _ in range(3):
            await dispatcher.poll_once()
    assert len(standin.for_path(browser.path)) == 3
    assert {r.headers["Topic"] for r in received} == {str(notification_id)}
    row = await conn.fetchrow(
        "SELECT state, attempts, last_error FROM push_deliveries WHERE notification_id = $1",
        notification_id,
    )
    assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 3, None)
    assert (await delivery(conn, notification_id))["delivered_via"] == "push"


async def test_a_refusal_is_given_up_without_retry(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    standin.script[browser.path] = [400]
    notification_id = await notify(conn, user)
    async with dispatching(pool, push_settings):
        await standin.wait_for(browser.path, 1)
        await until(
            lambda: conn.fetchval(
                "SELECT state = 'failed' FROM push_deliveries WHERE notification_id = $1",
                notification_id,
            ),
            "the push is given up",
        )
    assert len(standin.for_path(browser.path)) == 1
    assert await conn.fetchval(
        "SELECT count(*) FROM push_subscriptions WHERE endpoint = $1", browser.endpoint
    )


async def test_an_unsendable_endpoint_fails_its_row_and_the_dispatcher_goes_on(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    # py_vapid refuses to sign for an IPv6-literal origin (VapidException): it once ended `run`.
    user, other = uuid.uuid4(), uuid.uuid4()
    await insert_subscription(conn, user, "https://[2606:4700:4700::1111]/x")
    broken = await notify(conn, user)
    async with dispatching(pool, push_settings):
        await until(
            lambda: conn.fetchval(
                "SELECT state = 'failed' FROM push_deliveries WHERE notification_id = $1", broken
            ),
            "the unsendable push is given up",
        )
        browser = await subscribe(conn, other, standin)  # the dispatcher still works
        await notify(conn, other)
        await standin.wait_for(browser.path, 1)
    row = await push_row(conn, broken)
    assert row["attempts"] == 1
    assert "VapidException" in row["last_error"]


async def test_a_row_whose_attempts_are_used_up_is_never_claimed_again(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    notification_id = await notify(conn, user, age=1)
    subscription_id = await conn.fetchval(
        "SELECT id FROM push_subscriptions WHERE endpoint = $1", browser.endpoint
    )
    # The last attempt's process died mid-send: the lease has ended, no outcome recorded.
    await conn.execute(
        "INSERT INTO push_deliveries (notification_id, subscription_id, attempts, next_attempt_at)"
        " VALUES ($1, $2, $3, now() - interval '1 second')",
        notification_id,
        subscription_id,
        push_settings.push_max_attempts,
    )
    dispatcher = Dispatcher(pool, push_settings, Sender(push_settings))
    assert await dispatcher.claim(10) == []
    row = await push_row(conn, notification_id)
    assert row["state"] == "failed"
    assert row["attempts"] == push_settings.push_max_attempts
    assert "attempts used up" in row["last_error"]
    assert standin.for_path(browser.path) == []


async def test_a_send_whose_outcome_is_unknown_is_never_sent_again(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    notification_id = await notify(conn, user, age=1)
    subscription_id = await conn.fetchval(
        "SELECT id FROM push_subscriptions WHERE endpoint = $1", browser.endpoint
    )
    # A process claimed it and was killed mid-send (the push service may have accepted it):
    # its lease has ended with the row still `sending`, attempts left.
    await conn.execute(
        "INSERT INTO push_deliveries (notification_id, subscription_id, state, attempts,"
        " next_attempt_at) VALUES ($1, $2, 'sending', 1, now() - interval '1 second')",
        notification_id,
        subscription_id,
    )
    dispatcher = Dispatcher(pool, push_settings, Sender(push_settings))
    assert await dispatcher.claim(10) == []
    row = await push_row(conn, notification_id)
    assert row["state"] == "failed"
    assert "outcome unknown" in row["last_error"]
    await dispatcher.enqueue(whole_ttl=True)  # its (notification, subscription) row stays closed
    assert await dispatcher.claim(10) == []
    assert standin.for_path(browser.path) == []


async def test_a_name_resolving_to_loopback_fails_at_once(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    # `localhost` is resolved for real by PublicResolver, which refuses it without the test
    # setting; aiohttp wraps that refusal in ClientConnectorDNSError: not a reason to retry.
    strict = push_settings.model_copy(update={"push_allow_loopback": False})
    user = uuid.uuid4()
    port = standin.base_url.rsplit(":", 1)[1]
    browser = await insert_subscription(conn, user, f"http://localhost:{port}/push/x")
    notification_id = await notify(conn, user)
    async with dispatching(pool, strict):
        await until(
            lambda: conn.fetchval(
                "SELECT state = 'failed' FROM push_deliveries WHERE notification_id = $1",
                notification_id,
            ),
            "the push is given up",
        )
    row = await push_row(conn, notification_id)
    assert row["attempts"] == 1
    assert "no public address" in row["last_error"]
    assert standin.for_path(browser.path) == []


async def test_a_push_service_that_never_answers_holds_up_no_other_push(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    slow_user, user = uuid.uuid4(), uuid.uuid4()
    slow = await subscribe(conn, slow_user, standin)
    standin.held[slow.path] = asyncio.Event()
    browser = await subscribe(conn, user, standin)
    await notify(conn, slow_user)
    async with dispatching(pool, push_settings):
        await standin.wait_for(slow.path, 1)
        await notify(conn, user)  # created while the slow send is in flight
        await standin.wait_for(browser.path, 1, timeout=push_settings.push_timeout_seconds / 2)
        assert not standin.held[slow.path].is_set()  # still unanswered
        standin.held[slow.path].set()


async def test_a_push_answered_too_late_is_never_sent_again(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    # The push service accepted the request and answers after the timeout: it may have taken the
    # push, so another attempt could show it twice. Outcome unknown: failed, never resent.
    hasty = push_settings.model_copy(update={"push_timeout_seconds": 0.5})
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    standin.held[browser.path] = asyncio.Event()
    notification_id = await notify(conn, user)
    async with dispatching(pool, hasty) as dispatcher:
        await standin.wait_for(browser.path, 1)
        await until(
            lambda: conn.fetchval(
                "SELECT state = 'failed' FROM push_deliveries WHERE notification_id = $1",
                notification_id,
            ),
            "the unanswered push is closed",
        )
        standin.held[browser.path].set()  # the answer comes too late
        for _ in range(3):
            await dispatcher.poll_once()
    assert len(standin.for_path(browser.path)) == 1
    row = await push_row(conn, notification_id)
    assert (row["state"], row["attempts"]) == ("failed", 1)
    assert "outcome unknown" in row["last_error"]
    assert dispatcher.counts.pushes["retried"] == 0


async def test_a_refused_connection_is_retried(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings
) -> None:
    # Nothing listens on the port: no connection, nothing sent, so another attempt is safe.
    port = free_port()
    twice = push_settings.model_copy(update={"push_max_attempts": 2})
    user = uuid.uuid4()
    await insert_subscription(conn, user, f"http://127.0.0.1:{port}/push/x")
    notification_id = await notify(conn, user)
    async with dispatching(pool, twice) as dispatcher:
        await until(
            lambda: conn.fetchval(
                "SELECT state = 'failed' FROM push_deliveries WHERE notification_id = $1",
                notification_id,
            ),
            "the push is given up after its attempts",
        )
    row = await push_row(conn, notification_id)
    assert row["attempts"] == 2
    assert "ClientConnectorError" in row["last_error"]
    assert "outcome unknown" not in row["last_error"]
    assert dispatcher.counts.pushes["retried"] == 1
