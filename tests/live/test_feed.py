"""The feed alone, with an in-memory store and transport: order, no duplicates, no gaps.

No Postgres here: `FakeStore` answers `rows_after` from lists, `FakeTransport` hands the feed
the batches a test chooses. The Postgres store is exercised by the stream and listener tests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.live.events import Event
from service.live.feed import Feed, NotFollowed
from service.live.listener import LOST, Heard, Item, Listening
from service.live.store import Bounds, Row
from tests.support.waiting import until

USER = uuid.UUID(int=1)
OTHER = uuid.UUID(int=2)


class StoreDown(OSError):
    pass


class FakeStore:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.pruned: dict[uuid.UUID, int] = {}
        self.failures = 0  # the next N reads fail
        self.next_id = 1

    def add(self, user: uuid.UUID) -> int:
        """Commit a notification of `user`; return its id."""
        id_ = self.next_id
        self.next_id += 1
        self.rows.append(
            {
                "id": id_,
                "user_id": user,
                "type": "video_complete",
                "payload": {"title": f"n{id_}"},
                "created_at": datetime(2026, 11, 27, tzinfo=UTC),
                "read_at": None,
                "dismissed_at": None,
            }
        )
        return id_

    def prune_through(self, user: uuid.UUID, id_: int) -> None:
        self.rows = [r for r in self.rows if not (r["user_id"] == user and r["id"] <= id_)]
        self.pruned[user] = id_

    async def rows_after(
        self, cursors: Mapping[uuid.UUID, int], limit: int
    ) -> tuple[dict[uuid.UUID, Bounds], list[Row]]:
        await asyncio.sleep(0)
        if self.failures:
            self.failures -= 1
            raise StoreDown("database unreachable")
        bounds: dict[uuid.UUID, Bounds] = {}
        rows: list[Row] = []
        for user, after in cursors.items():
            mine = [r for r in self.rows if r["user_id"] == user]
            latest = max((r["id"] for r in mine), default=0)
            bounds[user] = Bounds(self.pruned.get(user, 0), latest)
            rows += [r for r in mine if r["id"] > after][:limit]
        return bounds, sorted(rows, key=lambda r: r["id"])

    async def unread_counts(self, users: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        return {u: sum(1 for r in self.rows if r["user_id"] == u) for u in users}


class FakeTransport:
    def __init__(self) -> None:
        self.listened: list[uuid.UUID] = []
        self.unlistened: list[uuid.UUID] = []
        self._batches: asyncio.Queue[list[Item]] = asyncio.Queue()
        self._idle = asyncio.Event()

    def listen(self, user: uuid.UUID) -> None:
        self.listened.append(user)

    def unlisten(self, user: uuid.UUID) -> None:
        self.unlistened.append(user)

    async def next_batch(self) -> list[Item]:
        if self._batches.empty():
            self._idle.set()
        batch = await self._batches.get()
        self._idle.clear()
        return batch

    async def send(self, *items: Item) -> None:
        """Hand the feed one batch and wait until it has handled it."""
        self._idle.clear()
        self._batches.put_nowait(list(items))
        await asyncio.wait_for(self._idle.wait(), 2)


class Published:
    def __init__(self) -> None:
        self.events: list[tuple[uuid.UUID, Event]] = []

    def __call__(self, user: uuid.UUID, event: Event) -> None:
        self.events.append((user, event))

    def ids(self, user: uuid.UUID = USER) -> list[int]:
        return [e.id for u, e in self.events if u == user and e.id is not None and not _named(e)]

    def named(self, name: str, user: uuid.UUID = USER) -> list[dict[str, Any]]:
        prefix = f"event: {name}\n".encode()
        return [_data(e) for u, e in self.events if u == user and prefix in e.frame]


def _named(event: Event) -> bool:
    return b"event: " in event.frame


def _data(event: Event) -> dict[str, Any]:
    line = next(x for x in event.frame.split(b"\n") if x.startswith(b"data: "))
    data: dict[str, Any] = orjson.loads(line.removeprefix(b"data: "))
    return data


def wake(user: uuid.UUID, id_: int) -> Heard:
    return Heard(user, {"event": "notification", "id": id_})


class Harness:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.transport = FakeTransport()
        self.feed = Feed(self.store, self.transport)
        self.published = Published()

    async def follow(self, user: uuid.UUID = USER) -> int:
        self.feed.follow(user)
        await self.transport.send(Listening((user,)))
        return await asyncio.wait_for(self.feed.ready(user), 1)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    running = Harness()
    task = asyncio.create_task(running.feed.run(running.published))
    await asyncio.wait_for(running.transport._idle.wait(), 1)
    yield running
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_new_user_starts_at_their_newest_id_then_gets_each_new_row_once(
    harness: Harness,
) -> None:
    harness.store.add(USER)
    old = harness.store.add(USER)
    assert await harness.follow() == old
    assert harness.transport.listened == [USER]
    first, second = harness.store.add(USER), harness.store.add(USER)
    await harness.transport.send(wake(USER, first), wake(USER, second), wake(USER, first))
    await harness.transport.send(wake(USER, second), wake(USER, old))
    assert harness.published.ids() == [first, second]
    assert harness.feed.cursor(USER) == second


async def test_a_wake_up_before_the_user_is_ready_is_covered_by_the_first_read(
    harness: Harness,
) -> None:
    harness.feed.follow(USER)
    early = harness.store.add(USER)  # committed after LISTEN, its NOTIFY arrives first
    await harness.transport.send(wake(USER, early), Listening((USER,)))
    assert await harness.feed.ready(USER) == early  # the live-only stream starts after it
    later = harness.store.add(USER)
    await harness.transport.send(wake(USER, later))
    assert harness.published.ids() == [later]


async def test_nothing_is_lost_or_repeated_across_a_reconnect(harness: Harness) -> None:
    start = await harness.follow()
    before = harness.store.add(USER)
    await harness.transport.send(wake(USER, before))
    await harness.transport.send(LOST)
    missed = [harness.store.add(USER) for _ in range(3)]  # their NOTIFYs are gone
    await harness.transport.send(wake(USER, missed[-1]))  # heard before the re-LISTEN: ignored
    assert harness.published.ids() == [before]
    after = harness.store.add(USER)
    await harness.transport.send(Listening((USER,)), wake(USER, after), wake(USER, missed[0]))
    assert harness.published.ids() == [before, *missed, after]
    assert harness.published.ids() == [i for i in range(start + 1, after + 1)]
    assert harness.published.named("read_state")[-1] == {"state": "sync", "unread_count": 5}


async def test_a_cursor_below_the_retention_watermark_gets_reset(harness: Harness) -> None:
    harness.store.add(USER)
    await harness.follow()
    await harness.transport.send(LOST)
    ids = [harness.store.add(USER) for _ in range(4)]
    harness.store.prune_through(USER, ids[1])  # deleted while we were away
    await harness.transport.send(Listening((USER,)))
    assert harness.published.named("reset") == [{"reason": "cursor_expired", "latest_id": ids[-1]}]
    assert harness.published.ids() == []  # what survived is in history, not replayed
    assert harness.feed.cursor(USER) == ids[-1]


async def test_a_failed_read_is_retried_from_the_same_cursor(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.live.feed.RETRY_SECONDS", 0.01)
    await harness.follow()
    harness.store.failures = 2
    first, second = harness.store.add(USER), harness.store.add(USER)
    await harness.transport.send(wake(USER, second))  # both reads fail
    await until(lambda: harness.published.ids() == [first, second], "both rows are published")


async def test_a_user_whose_first_read_fails_becomes_ready_on_retry(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.live.feed.RETRY_SECONDS", 0.01)
    latest = harness.store.add(USER)
    harness.store.failures = 1
    harness.feed.follow(USER)
    await harness.transport.send(Listening((USER,)))
    assert await asyncio.wait_for(harness.feed.ready(USER), 2) == latest


async def test_each_user_gets_only_their_own_rows(harness: Harness) -> None:
    await harness.follow(USER)
    await harness.follow(OTHER)
    mine, theirs = harness.store.add(USER), harness.store.add(OTHER)
    await harness.transport.send(wake(USER, mine), wake(OTHER, theirs))
    assert harness.published.ids(USER) == [mine]
    assert harness.published.ids(OTHER) == [theirs]


async def test_unfollowed_users_are_unlistened_and_ignored(harness: Harness) -> None:
    await harness.follow()
    harness.feed.unfollow(USER)
    assert harness.transport.unlistened == [USER]
    await harness.transport.send(wake(USER, harness.store.add(USER)), Listening((USER,)))
    assert harness.published.events == []
    with pytest.raises(NotFollowed):
        await harness.feed.ready(USER)


async def test_waiters_are_told_when_the_user_is_ready_or_no_longer_followed(
    harness: Harness,
) -> None:
    latest = harness.store.add(USER)
    harness.feed.follow(USER)
    harness.feed.follow(OTHER)
    waiting, stopped, gone = (
        harness.feed.ready(USER),
        harness.feed.ready(USER),
        harness.feed.ready(OTHER),
    )
    assert not any(each.done() for each in (waiting, stopped, gone))  # not LISTENed yet
    stopped.cancel()  # its caller stopped waiting: settled by nobody else
    harness.feed.unfollow(OTHER)
    await harness.transport.send(Listening((USER,)))
    assert await asyncio.wait_for(waiting, 1) == latest
    with pytest.raises(NotFollowed):
        gone.result()
    assert harness.feed.ready(USER).result() == latest  # ready: done at once


async def test_waiters_whose_callers_stopped_waiting_are_not_kept(harness: Harness) -> None:
    harness.feed.follow(USER)  # not LISTENed: every caller waits, then stops (a timeout)
    for _ in range(1000):
        harness.feed.ready(USER).set_exception(TimeoutError())
    kept = harness.feed._waiting[USER].futures
    assert len(kept) < 10  # a few at most, not the 1,000
    still = [harness.feed.ready(USER) for _ in range(100)]  # callers still waiting stay
    assert all(each in harness.feed._waiting[USER].futures for each in still)


async def test_read_state_goes_out_after_the_rows_before_it(harness: Harness) -> None:
    await harness.follow()
    new = harness.store.add(USER)
    read = Heard(USER, {"event": "read_state", "state": "read", "ids": [new], "unread_count": 0})
    await harness.transport.send(wake(USER, new), read)
    kinds = [e.id if e.id is not None else "read_state" for _u, e in harness.published.events]
    assert kinds == [new, "read_state"]


async def test_replay_pages_through_every_row_after_the_cursor() -> None:
    harness = Harness()
    ids = [harness.store.add(USER) for _ in range(7)]
    harness.store.add(OTHER)
    replayed = [event.id async for event in harness.feed.replay(USER, ids[1], page_size=2)]
    assert replayed == ids[2:]


@pytest.mark.parametrize(
    ("cursor", "reason"),
    [(1, "cursor_expired"), (99, "cursor_unknown")],
    ids=["expired", "unknown"],
)
async def test_replay_of_a_cursor_it_cannot_honour_is_one_reset(cursor: int, reason: str) -> None:
    harness = Harness()
    ids = [harness.store.add(USER) for _ in range(4)]
    harness.store.prune_through(USER, ids[1])
    events = [event async for event in harness.feed.replay(USER, cursor, page_size=10)]
    assert len(events) == 1
    assert events[0].id == ids[-1]
    assert _data(events[0]) == {"reason": reason, "latest_id": ids[-1]}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["commit", "commit_quiet", "lost", "listening", "flush"])))
def test_any_interleaving_publishes_every_row_once_in_order(steps: list[str]) -> None:
    """Whatever happens to NOTIFYs and the connection, once the feed is caught up it has
    published exactly the rows after its starting point, in id order."""

    async def scenario() -> None:
        harness = Harness()
        task = asyncio.create_task(harness.feed.run(harness.published))
        try:
            start = await harness.follow()
            pending: list[Item] = []
            for step in steps:
                if step == "commit":  # committed, and its NOTIFY arrives
                    pending.append(wake(USER, harness.store.add(USER)))
                elif step == "commit_quiet":  # committed during an outage: no NOTIFY
                    harness.store.add(USER)
                elif step == "lost":
                    pending.append(LOST)
                elif step == "listening":
                    pending.append(Listening((USER,)))
                else:
                    await harness.transport.send(*pending)
                    pending = []
            await harness.transport.send(*pending, LOST, Listening((USER,)))
            expected = [r["id"] for r in harness.store.rows if r["id"] > start]
            assert harness.published.ids() == expected
        finally:
            task.cancel()

    asyncio.run(scenario())


class CountingStore(FakeStore):
    """Counts queries and how many cursors each one carried."""

    def __init__(self) -> None:
        super().__init__()
        self.cursor_counts: list[int] = []

    async def rows_after(
        self, cursors: Mapping[uuid.UUID, int], limit: int
    ) -> tuple[dict[uuid.UUID, Bounds], list[Row]]:
        self.cursor_counts.append(len(cursors))
        return await super().rows_after(cursors, limit)


async def _replayed(feed: Feed, user: uuid.UUID, after: int, page_size: int) -> list[int | None]:
    return [event.id async for event in feed.replay(user, after, page_size)]


async def test_replays_that_start_together_share_queries_and_get_their_own_rows() -> None:
    store = CountingStore()
    users = [uuid.UUID(int=100 + n) for n in range(30)]
    ids = {user: [store.add(user) for _ in range(5)] for user in users}
    feed = Feed(store, FakeTransport())
    # Each resumes after its second row; page size 2, so each pages once more on its own.
    replays = [_replayed(feed, user, ids[user][1], page_size=2) for user in users]
    replayed = await asyncio.gather(*replays)
    assert replayed == [ids[user][2:] for user in users]
    # Started in the same turn of the loop: their first pages are one query.
    assert [count for count in store.cursor_counts if count > 1] == [len(users)]
    assert len(store.cursor_counts) == 1 + len(users)  # then each pages once more alone


async def test_a_second_stream_of_the_same_user_is_read_alone() -> None:
    store = CountingStore()
    ids = [store.add(USER) for _ in range(4)]
    feed = Feed(store, FakeTransport())
    first, second, third = await asyncio.gather(
        _replayed(feed, USER, ids[0], page_size=10),
        _replayed(feed, USER, ids[1], page_size=10),
        _replayed(feed, USER, ids[2], page_size=10),
    )
    assert (first, second, third) == (ids[1:], ids[2:], ids[3:])


async def test_a_failed_batch_fails_each_of_its_replays() -> None:
    store = CountingStore()
    users = [uuid.UUID(int=200 + n) for n in range(3)]
    for user in users:
        store.add(user)
    feed = Feed(store, FakeTransport())
    store.failures = 1  # the batch's one query
    outcomes = await asyncio.gather(
        *(_replayed(feed, user, 0, page_size=10) for user in users), return_exceptions=True
    )
    assert all(isinstance(outcome, StoreDown) for outcome in outcomes)
    assert store.cursor_counts == [3]
    assert await _replayed(feed, users[0], 0, page_size=10) == [1]  # the next one reads again
