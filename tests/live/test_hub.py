"""The hub alone, with an in-memory source: fan-out, limits, overflow, following."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from service.live.events import Event
from service.live.hub import CLOSE, TICK, AtCapacity, Hub, Subscription, Unavailable
from tests.support.hubs import FakeSource, enter, hub_of


async def leave(subscription: Subscription) -> None:
    await subscription.__aexit__(None, None, None)


def event(id: int) -> Event:
    return Event(id, f"id: {id}\ndata: {{}}\n\n".encode())


async def test_publish_reaches_every_stream_of_the_user_only() -> None:
    hub = hub_of()
    alice, bob = uuid.uuid4(), uuid.uuid4()
    a1, a2, b1 = await enter(hub, alice), await enter(hub, alice), await enter(hub, bob)
    hub.publish(alice, event(8))
    assert a1.queue.get_nowait() == a2.queue.get_nowait() == event(8)
    assert b1.queue.empty()
    assert a1.last_id == 7  # where the source said the user's events start


async def test_past_the_limit_the_oldest_stream_is_displaced_and_the_newest_admitted() -> None:
    hub = hub_of(limit=2)
    user, other = uuid.uuid4(), uuid.uuid4()
    oldest = await enter(hub, user)
    middle = await enter(hub, user)
    bystander = await enter(hub, other)
    newest = await enter(hub, user)  # not refused
    assert oldest.closed_reason == "displaced"
    assert oldest.retry_ms == 600_000  # a client that ignores the event comes back late
    assert oldest.queue.get_nowait() is CLOSE
    assert (middle.closed_reason, newest.closed_reason, bystander.closed_reason) == (None,) * 3
    hub.publish(user, event(8))
    assert middle.queue.get_nowait() == newest.queue.get_nowait() == event(8)
    assert oldest.queue.empty()  # asked to end: it gets nothing more
    # One on its way out does not count: the next one displaces `middle`, not a second one.
    latest = await enter(hub, user)
    assert middle.closed_reason == "displaced"
    assert (newest.closed_reason, latest.closed_reason) == (None, None)
    await leave(oldest)
    await leave(middle)
    assert hub.stream_count(user) == 2
    assert hub.closed_by_reason["displaced"] == 2
    assert hub.refused_by_reason["per_user_limit"] == 0


async def test_full_queue_closes_only_that_stream() -> None:
    hub = hub_of()
    user = uuid.uuid4()
    slow = await enter(hub, user, queue_size=2)
    fast = await enter(hub, user, queue_size=100)
    for i in range(10):
        hub.publish(user, event(i))
        fast.queue.get_nowait()
    assert slow.closed_reason == "overflow"
    assert fast.closed_reason is None


async def test_the_first_stream_follows_and_the_last_one_unfollows() -> None:
    source = FakeSource()
    hub = hub_of(source)
    user = uuid.uuid4()
    async with hub.subscription(user, queue_size=1, timeout=1):
        async with hub.subscription(user, queue_size=1, timeout=1):
            assert source.followed == {user}
        assert source.followed == {user}
    assert source.followed == set()
    assert hub.users() == []
    assert source.follows == 1


async def test_a_user_back_within_the_delay_stays_followed() -> None:
    source = FakeSource()
    hub = hub_of(source, delay=0.05)
    user = uuid.uuid4()
    async with hub.subscription(user, queue_size=1, timeout=1):
        pass
    assert source.followed == {user}  # not yet: the delay runs
    async with hub.subscription(user, queue_size=1, timeout=1):
        assert source.follows == 1  # the pending unfollow was cancelled, no second follow
    await asyncio.wait_for(source.unfollowed.wait(), 1)
    assert source.followed == set()


async def test_leaving_the_block_by_an_error_unregisters_the_stream() -> None:
    source = FakeSource()
    hub = hub_of(source)
    user = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with hub.subscription(user, queue_size=1, timeout=1):
            raise RuntimeError("the stream broke")
    assert hub.stream_count() == 0
    assert source.followed == set()
    assert hub.closed_by_reason["ended"] == 1


async def test_close_all_wakes_every_stream() -> None:
    hub = hub_of()
    subscriptions = [await enter(hub, uuid.uuid4()) for _ in range(3)]
    hub.close_all("shutdown")
    for subscription in subscriptions:
        assert subscription.closed_reason == "shutdown"
        assert subscription.queue.get_nowait() is CLOSE


async def test_cancelled_entry_frees_its_slot() -> None:
    source = FakeSource()
    source.gate = asyncio.Event()
    hub = hub_of(source, limit=1)
    user = uuid.uuid4()
    pending = asyncio.create_task(enter(hub, user))
    async with asyncio.timeout(1):
        while hub.stream_count(user) == 0:  # registered, waiting for the source
            await asyncio.sleep(0)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert hub.stream_count(user) == 0
    assert source.followed == set()
    source.gate.set()
    await enter(hub, user)


async def test_a_source_that_never_gets_ready_makes_entry_unavailable() -> None:
    source = FakeSource()
    source.gate = asyncio.Event()
    hub = hub_of(source)
    user = uuid.uuid4()
    with pytest.raises(Unavailable):
        async with hub.subscription(user, queue_size=1, timeout=0.05):
            raise AssertionError("entered")
    assert hub.stream_count(user) == 0
    assert hub.closed_by_reason["unavailable"] == 1


async def test_a_source_that_fails_to_say_when_it_is_ready_leaves_no_stream_behind() -> None:
    source = FakeSource()
    hub = hub_of(source)

    def broken(user: uuid.UUID) -> asyncio.Future[int]:
        raise RuntimeError("a fault of the source")

    source.ready = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await enter(hub, uuid.uuid4())
    assert hub.stream_count() == 0
    assert hub.closed_by_reason["cancelled"] == 1


async def test_a_stream_that_subscribes_during_shutdown_ends_at_once() -> None:
    hub = hub_of()
    hub.close_all("shutdown")
    late = await enter(hub, uuid.uuid4())
    assert late.closed_reason == "shutdown"
    assert late.queue.get_nowait() is CLOSE


async def test_close_user_ends_only_that_users_streams() -> None:
    hub = hub_of()
    alice, bob = uuid.uuid4(), uuid.uuid4()
    first, second = [await enter(hub, alice, queue_size=2) for _ in range(2)]
    other = await enter(hub, bob, queue_size=2)
    assert hub.close_user(alice, "revoked") == 2
    assert first.closed_reason == second.closed_reason == "revoked"
    assert other.closed_reason is None


async def test_a_suspended_hub_keeps_open_streams_and_refuses_new_ones_until_resumed() -> None:
    hub = hub_of()
    user = uuid.uuid4()
    open_ = await enter(hub, user)
    hub.suspend("listener_deaf")
    assert open_.closed_reason is None  # ended by a drain, spread over time (test_drain.py)
    assert hub.open_subscriptions() == [open_]
    with pytest.raises(Unavailable):
        await enter(hub, uuid.uuid4())
    assert hub.refused_by_reason["listener_deaf"] == 1
    hub.resume()
    assert (await enter(hub, uuid.uuid4())).closed_reason is None


async def test_a_stream_that_fails_to_start_displaces_nobody() -> None:
    source = FakeSource()
    hub = hub_of(source, limit=1)
    user = uuid.uuid4()
    working = await enter(hub, user)
    source.gate = asyncio.Event()  # the next one never gets ready
    with pytest.raises(Unavailable):
        async with hub.subscription(user, queue_size=1, timeout=0.05):
            raise AssertionError("entered")
    assert working.closed_reason is None  # the device that was live stays live
    hub.publish(user, event(8))
    assert working.queue.get_nowait() == event(8)


async def test_a_full_process_still_lets_a_user_replace_their_own_oldest_stream() -> None:
    hub = Hub(FakeSource(), max_streams_per_user=1, max_streams=2, unfollow_delay=0)
    alice, bob, carol = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    old = await enter(hub, alice)
    await enter(hub, bob)
    replacement = await enter(hub, alice)  # the process is full, but nothing grows
    assert old.closed_reason == "displaced"
    assert replacement.closed_reason is None
    with pytest.raises(AtCapacity):
        await enter(hub, carol)  # a new user on a full process is still refused


class Keepalives:
    """A stream's `on_due` that handles its wake-ups itself while `taking` (a reading client)."""

    def __init__(self, taking: bool) -> None:
        self.taking = taking
        self.handled = 0

    def due(self) -> bool:
        if self.taking:
            self.handled += 1
        return self.taking


async def test_a_wake_up_its_stream_handles_itself_wakes_no_task() -> None:
    hub = hub_of()
    plain, handled, declined = [await enter(hub, uuid.uuid4()) for _ in range(3)]
    handler = handled.on_due = Keepalives(True)
    declined.on_due = Keepalives(False)
    for subscription in (plain, handled, declined):
        subscription.wake()
    assert handled.queue.empty()
    assert handler.handled == 1
    assert plain.queue.get_nowait() is TICK
    assert declined.queue.get_nowait() is TICK
    handled.close("ended")
    handled.wake()  # a closed stream is not woken, nor asked
    assert handler.handled == 1


class Failing:
    def due(self) -> bool:
        raise RuntimeError("a write that failed")


async def test_a_wake_up_that_fails_goes_to_the_stream_and_never_out_of_the_wheel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = hub_of()
    subscription = await enter(hub, uuid.uuid4())
    subscription.on_due = Failing()
    subscription.wake()  # the wheel's turn goes on to the rest of its slot
    assert subscription.queue.get_nowait() is TICK
    assert "a stream's wake-up failed" in caplog.text
