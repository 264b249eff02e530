"""The push dispatcher against a real Postgres and a stand-in push service: who is pushed,
what, once, and what is never pushed."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg

from db.pool import create_pool
from service.channels.push import sql as push_sql
from service.channels.push.dispatcher import Dispatcher
from service.channels.push.sender import Sender
from service.settings import Settings
from tests.support.push import notify, subscribe
from tests.support.push_dispatch import _async, delivery, dispatching
from tests.support.push_standin import StandIn, verify_vapid
from tests.support.waiting import until


async def test_no_stream_is_pushed_once_encrypted_and_signed(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    notification_id = await notify(conn, user)
    async with dispatching(pool, push_settings) as dispatcher:
        [received] = await standin.wait_for(browser.path, 1)
        for _ in range(5):  # more polls: nothing more is sent
            await dispatcher.poll_once()
    assert len(standin.for_path(browser.path)) == 1
    message = json.loads(browser.decrypt(received.body))
    assert message["id"] == notification_id
    assert message["type"] == "video_complete"
    assert message["title"] == "Your video is ready: Photosynthesis"  # the label, what it is about
    assert message["body"] == "Tap to watch"  # never blank (no duration in this payload)
    content_id = await conn.fetchval(
        "SELECT payload->>'content_id' FROM notifications WHERE id = $1", notification_id
    )
    assert message["link"] == f"https://notify.example/videos/{content_id}"  # the app's player
    assert message["timestamp"].endswith("Z")
    headers = received.headers
    assert 590 <= int(headers["TTL"]) <= 600  # what is left of the TTL (the push is ~0.3 s old)
    assert headers["Urgency"] == "high"
    assert headers["Topic"] == str(notification_id)
    assert headers["Content-Encoding"] == "aes128gcm"
    assert push_settings.vapid_public_key is not None
    claims = verify_vapid(headers, push_settings.vapid_public_key, standin.base_url)
    assert claims["sub"] == "mailto:ops@vividly.example"
    record = await delivery(conn, notification_id)
    assert record["delivered_via"] == "push"
    assert record["delivered_at"] is not None
    state = await conn.fetchrow(
        "SELECT state, attempts FROM push_deliveries WHERE notification_id = $1", notification_id
    )
    assert (state["state"], state["attempts"]) == ("sent", 1)


async def test_every_device_of_the_user_and_no_one_else(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    phone, laptop = await subscribe(conn, user, standin), await subscribe(conn, user, standin)
    stranger = await subscribe(conn, other, standin)
    notification_id = await notify(conn, user)
    async with dispatching(pool, push_settings) as dispatcher:
        for browser in (phone, laptop):
            [received] = await standin.wait_for(browser.path, 1)
            assert json.loads(browser.decrypt(received.body))["id"] == notification_id
        await dispatcher.poll_once()
    assert standin.for_path(stranger.path) == []


async def test_seen_read_archived_old_or_streamed_are_not_pushed(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    skipped = [
        await notify(conn, user, seen_at=await conn.fetchval("SELECT now()")),
        await notify(conn, user, read_at=await conn.fetchval("SELECT now()")),
        await notify(conn, user, dismissed_at=await conn.fetchval("SELECT now()")),
    ]
    # Delivered to an open stream: not pushed within PUSH_DELAY_SECONDS.
    streamed = await notify(
        conn, user, delivered_at=await conn.fetchval("SELECT now()"), delivered_via="stream"
    )
    control = await notify(conn, user)
    async with dispatching(pool, push_settings) as dispatcher:
        [first] = await standin.wait_for(browser.path, 1)
        assert json.loads(browser.decrypt(first.body))["id"] == control
        for _ in range(3):
            await dispatcher.poll_once()
        assert len(standin.for_path(browser.path)) == 1  # the streamed one waits for the delay
        # ... and, still unseen after it, is pushed then.
        pushed = await standin.wait_for(browser.path, 2)
    assert json.loads(browser.decrypt(pushed[1].body))["id"] == streamed
    for notification_id in skipped:
        assert (await delivery(conn, notification_id))["delivered_at"] is None
    assert (await delivery(conn, streamed))["delivered_via"] == "stream"  # the first channel


async def test_older_than_the_subscription_or_the_ttl_is_not_pushed(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    before = await notify(conn, user)
    browser = await subscribe(conn, user, standin)
    await conn.execute(
        "UPDATE push_subscriptions SET created_at = now() - interval '1 hour' WHERE endpoint = $1",
        browser.endpoint,
    )
    await conn.execute(
        "UPDATE notifications SET created_at = now() - interval '2 hours' WHERE id = $1", before
    )
    expired = await notify(conn, user, age=push_settings.push_ttl_seconds + 60)
    control = await notify(conn, user)
    async with dispatching(pool, push_settings) as dispatcher:
        [received] = await standin.wait_for(browser.path, 1)
        await dispatcher.poll_once()
    assert json.loads(browser.decrypt(received.body))["id"] == control
    assert len(standin.for_path(browser.path)) == 1
    count = await conn.fetchval(
        "SELECT count(*) FROM push_deliveries WHERE notification_id = ANY($1)", [before, expired]
    )
    assert count == 0


async def test_two_dispatchers_on_two_pools_push_each_once(
    conn: asyncpg.Connection, database_url: str, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browsers = [await subscribe(conn, user, standin) for _ in range(3)]
    ids = [await notify(conn, user) for _ in range(40)]
    pools = [await create_pool(database_url, min_size=1, max_size=4) for _ in range(2)]
    try:
        async with dispatching(pools[0], push_settings), dispatching(pools[1], push_settings):
            for browser in browsers:
                await standin.wait_for(browser.path, len(ids), timeout=30)
            await asyncio.sleep(0.5)  # a bounded wait for a duplicate that must not come
    finally:
        for created in pools:
            await created.close()
    for browser in browsers:
        topics = [r.headers["Topic"] for r in standin.for_path(browser.path)]
        assert sorted(topics) == sorted(str(i) for i in ids)


async def test_restart_during_a_send_still_pushes_once(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    standin.hold = asyncio.Event()
    notification_id = await notify(conn, user)
    first = Dispatcher(pool, push_settings, Sender(push_settings))
    task = asyncio.create_task(first.run())
    await standin.wait_for(browser.path, 1)
    first.stop()  # SIGTERM while the push service has not answered yet
    await asyncio.sleep(0.2)
    assert not task.done()  # it waits for the answer
    standin.hold.set()
    await asyncio.wait_for(task, 10)
    async with dispatching(pool, push_settings) as second:  # the restarted process
        for _ in range(5):
            await second.poll_once()
    assert len(standin.for_path(browser.path)) == 1
    assert (await delivery(conn, notification_id))["delivered_via"] == "push"


async def test_restart_between_finding_and_sending_still_pushes_once(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    await conn.execute(
        "UPDATE push_subscriptions SET created_at = now() - interval '1 minute'"
        " WHERE endpoint = $1",
        browser.endpoint,
    )
    notification_id = await notify(conn, user, age=1)
    s = push_settings
    await pool.execute(
        push_sql.PUSH_ENQUEUE,
        s.push_stream_grace_seconds,
        s.push_delay_seconds,
        float(s.push_ttl_seconds),
        float(s.push_ttl_seconds),
    )
    async with dispatching(pool, push_settings):  # a new process finds the recorded row
        await standin.wait_for(browser.path, 1)
    async with dispatching(pool, push_settings) as again:
        await again.poll_once()
    assert len(standin.for_path(browser.path)) == 1
    assert (await delivery(conn, notification_id))["delivered_via"] == "push"


async def test_a_subscription_moved_to_another_user_gets_none_of_the_first_users(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    browser = await subscribe(conn, first, standin)
    await notify(conn, first)
    data = browser.json()
    await conn.fetchrow(  # another user signs in on this browser and subscribes it
        push_sql.PUSH_SUBSCRIBE,
        second,
        browser.endpoint,
        data["keys"]["p256dh"],
        data["keys"]["auth"],
    )
    mine = await notify(conn, second)
    async with dispatching(pool, push_settings) as dispatcher:
        [received] = await standin.wait_for(browser.path, 1)
        await dispatcher.poll_once()
    assert json.loads(browser.decrypt(received.body))["id"] == mine
    assert len(standin.for_path(browser.path)) == 1


async def test_a_browser_moved_between_claim_and_send_gets_nothing_of_the_first_user(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    browser = await subscribe(conn, first, standin)
    notification_id = await notify(conn, first)
    await asyncio.sleep(push_settings.push_stream_grace_seconds)  # due: no stream took it
    dispatcher = Dispatcher(pool, push_settings, Sender(push_settings))
    await dispatcher.enqueue(whole_ttl=True)
    [claimed] = await dispatcher.claim(10)
    assert claimed["notification_id"] == notification_id
    data = browser.json()
    await conn.fetchrow(  # the second user logs in on this browser: it moves to them
        push_sql.PUSH_SUBSCRIBE,
        second,
        browser.endpoint,
        data["keys"]["p256dh"],
        data["keys"]["auth"],
    )
    async with dispatcher._sender:
        await dispatcher.deliver(claimed)
    assert standin.for_path(browser.path) == []
    assert (await delivery(conn, notification_id))["delivered_at"] is None
    assert dispatcher.counts.pushes["cancelled"] == 1


async def test_a_retry_carries_what_is_left_of_the_ttl(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    await conn.execute(
        "UPDATE push_subscriptions SET created_at = now() - interval '1 hour' WHERE endpoint = $1",
        browser.endpoint,
    )
    await notify(conn, user, age=200)
    async with dispatching(pool, push_settings):
        [received] = await standin.wait_for(browser.path, 1)
    ttl = push_settings.push_ttl_seconds
    assert ttl - 205 <= int(received.headers["TTL"]) <= ttl - 200


async def test_counts_for_metrics(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    standin.script[browser.path] = [503]
    await notify(conn, user)
    async with dispatching(pool, push_settings) as dispatcher:
        await standin.wait_for(browser.path, 2)
        await until(lambda: _async(dispatcher.counts.pushes["sent"] == 1), "the push is sent")
    assert dispatcher.counts.pushes["retried"] == 1
    assert dispatcher.counts.first_delivered["push"] == 1


async def test_a_clarifications_push_names_the_students_request(
    conn: asyncpg.Connection, pool: asyncpg.Pool, push_settings: Settings, standin: StandIn
) -> None:
    user = uuid.uuid4()
    browser = await subscribe(conn, user, standin)
    request = await conn.fetchval(
        "INSERT INTO content_requests (student_id, question) VALUES ($1, $2) RETURNING id",
        user,
        "How do tides work?",
    )
    notification_id = await notify(conn, user)
    await conn.execute(
        "UPDATE notifications SET type = 'clarification_needed', payload = $2 WHERE id = $1",
        notification_id,
        {"content_id": str(request), "question": "For which age?"},
    )
    async with dispatching(pool, push_settings):
        [received] = await standin.wait_for(browser.path, 1)
    message = json.loads(browser.decrypt(received.body))
    assert message["type"] == "clarification_needed"
    assert message["title"].endswith(": How do tides work?")  # what the question is about
    assert message["body"] == "For which age?"
