"""The hub alone, with an in-memory channel source: fan-out, limits, overflow, release."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from service.events import Event
from service.hub import CLOSE, Hub, TooManyStreams


class FakeSource:
    def __init__(self, latest: int = 7) -> None:
        self.latest = latest
        self.refs: dict[uuid.UUID, int] = {}
        self.gate: asyncio.Event | None = None

    async def acquire(self, user_id: uuid.UUID) -> int:
        if self.gate is not None:
            await self.gate.wait()
        self.refs[user_id] = self.refs.get(user_id, 0) + 1
        return self.latest

    def release(self, user_id: uuid.UUID) -> None:
        self.refs[user_id] -= 1


def event(id: int) -> Event:
    return Event(id, f"id: {id}\ndata: {{}}\n\n".encode())


async def test_publish_reaches_every_stream_of_the_user_only() -> None:
    hub = Hub(FakeSource(), max_streams_per_user=3)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    a1 = await hub.subscribe(alice, queue_size=4)
    a2 = await hub.subscribe(alice, queue_size=4)
    b1 = await hub.subscribe(bob, queue_size=4)
    hub.publish(alice, event(8))
    assert a1.queue.get_nowait() == a2.queue.get_nowait() == event(8)
    assert b1.queue.empty()
    assert a1.last_id == 7  # where the source said the user's events start


async def test_limit_per_user() -> None:
    hub = Hub(FakeSource(), max_streams_per_user=2)
    user = uuid.uuid4()
    await hub.subscribe(user, queue_size=1)
    second = await hub.subscribe(user, queue_size=1)
    with pytest.raises(TooManyStreams):
        await hub.subscribe(user, queue_size=1)
    hub.unsubscribe(second)
    await hub.subscribe(user, queue_size=1)


async def test_full_queue_closes_only_that_stream() -> None:
    hub = Hub(FakeSource(), max_streams_per_user=3)
    user = uuid.uuid4()
    slow = await hub.subscribe(user, queue_size=2)
    fast = await hub.subscribe(user, queue_size=100)
    for i in range(10):
        hub.publish(user, event(i))
        fast.queue.get_nowait()
    assert slow.closed_reason == "overflow"
    assert fast.closed_reason is None


async def test_unsubscribe_releases_the_channel_once_with_the_last_stream() -> None:
    source = FakeSource()
    hub = Hub(source, max_streams_per_user=3)
    user = uuid.uuid4()
    first = await hub.subscribe(user, queue_size=1)
    second = await hub.subscribe(user, queue_size=1)
    hub.unsubscribe(first)
    hub.unsubscribe(first)  # idempotent
    assert source.refs[user] == 1
    hub.unsubscribe(second)
    assert source.refs[user] == 0
    assert hub.users() == []


async def test_close_all_wakes_every_stream() -> None:
    hub = Hub(FakeSource(), max_streams_per_user=3)
    subscriptions = [await hub.subscribe(uuid.uuid4(), queue_size=1) for _ in range(3)]
    hub.close_all("shutdown")
    for subscription in subscriptions:
        assert subscription.closed_reason == "shutdown"
        assert subscription.queue.get_nowait() is CLOSE


async def test_cancelled_subscribe_frees_its_slot() -> None:
    source = FakeSource()
    source.gate = asyncio.Event()
    hub = Hub(source, max_streams_per_user=1)
    user = uuid.uuid4()
    pending = asyncio.create_task(hub.subscribe(user, queue_size=1))
    await asyncio.sleep(0)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert hub.stream_count(user) == 0
    source.gate.set()
    await hub.subscribe(user, queue_size=1)


async def test_a_stream_that_subscribes_during_shutdown_ends_at_once() -> None:
    hub = Hub(FakeSource(), max_streams_per_user=3)
    hub.close_all("shutdown")
    late = await hub.subscribe(uuid.uuid4(), queue_size=4)
    assert late.closed_reason == "shutdown"
    assert late.queue.get_nowait() is CLOSE


async def test_close_user_ends_only_that_users_streams() -> None:
    hub = Hub(FakeSource(), max_streams_per_user=3)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    first, second = [await hub.subscribe(alice, queue_size=2) for _ in range(2)]
    other = await hub.subscribe(bob, queue_size=2)
    assert hub.close_user(alice, "revoked") == 2
    assert first.closed_reason == second.closed_reason == "revoked"
    assert other.closed_reason is None
