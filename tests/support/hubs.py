"""An in-memory feed source and hub for unit tests of the live core (no Postgres)."""

from __future__ import annotations

import asyncio
import uuid

from service.live.hub import Hub, Subscription


class FakeSource:
    def __init__(self, latest: int = 7) -> None:
        self.latest = latest
        self.followed: set[uuid.UUID] = set()
        self.follows = 0
        self.unfollowed = asyncio.Event()
        self.gate: asyncio.Event | None = None
        self._opening: asyncio.Task[None] | None = None

    def follow(self, user: uuid.UUID) -> None:
        assert user not in self.followed, "followed twice"
        self.followed.add(user)
        self.follows += 1

    def ready(self, user: uuid.UUID) -> asyncio.Future[int]:
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if self.gate is None:
            ready.set_result(self.latest)
        else:
            self._opening = asyncio.create_task(self._open(self.gate, ready))
        return ready

    async def _open(self, gate: asyncio.Event, ready: asyncio.Future[int]) -> None:
        await gate.wait()
        if not ready.done():  # its caller may have stopped waiting
            ready.set_result(self.latest)

    def unfollow(self, user: uuid.UUID) -> None:
        self.followed.remove(user)
        self.unfollowed.set()


def hub_of(source: FakeSource | None = None, *, limit: int = 3, delay: float = 0) -> Hub:
    return Hub(source or FakeSource(), max_streams_per_user=limit, unfollow_delay=delay)


async def enter(hub: Hub, user: uuid.UUID, queue_size: int = 4) -> Subscription:
    subscription = hub.subscription(user, queue_size=queue_size, timeout=1)
    return await subscription.__aenter__()
