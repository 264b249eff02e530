"""The process's one LISTEN connection, and delivery of what it hears to the hub.

Guarantees:
- One dedicated asyncpg connection (never pooled: a pool's reset runs `UNLISTEN *`), owned by
  one task that runs every LISTEN, UNLISTEN and health check, so nothing races on it.
- A user's channel is LISTENed before `acquire` returns; it is UNLISTENed `unlisten_delay`
  after the last stream releases it (reconnecting browsers come right back).
- NOTIFY is a wake-up: the rows themselves are read from `notifications` (one query per batch
  of wake-ups) and published in id order, at most once per id per user.
- Connection loss is noticed by the termination callback or, for a silent peer, by a
  `SELECT 1` heartbeat with a timeout. The task reconnects with jittered exponential backoff,
  LISTENs every channel again in batched round trips, then reads each user's rows after the
  last id it published: nothing committed during the outage is lost or published twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import orjson

from db import queries
from db.urls import asyncpg_dsn

from .channels import ListenerConnection, statements, user_of
from .events import Event, notification_event, read_state_event

logger = logging.getLogger(__name__)

APPLICATION_NAME = "vividly-listener"
CATCH_UP_PAGE = 1000

Publish = Callable[[uuid.UUID, Event], None]


class _ConnectionLost(Exception):
    pass


class Listener:
    """Keeps the channels of users with open streams LISTENed and publishes their rows."""

    def __init__(
        self,
        url: str,
        pool: asyncpg.Pool,
        *,
        unlisten_delay: float,
        heartbeat: float,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._pool = pool
        self._publish: Publish = lambda _user, _event: None
        self._unlisten_delay = unlisten_delay
        self._heartbeat = heartbeat
        # Every await of the listener task is bounded: a silent database must not stall it.
        self._timeout = max(3 * heartbeat, 10.0)
        self._refs: dict[uuid.UUID, int] = {}
        self._waiters: dict[uuid.UUID, list[asyncio.Future[int]]] = {}
        self._last_id: dict[uuid.UUID, int] = {}
        self._listening: set[uuid.UUID] = set()
        self._unlisten_timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._unlisten_due: set[uuid.UUID] = set()
        self._pending_listen: set[uuid.UUID] = set()
        self._inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.notifications_received = 0

    # -- what streams call ------------------------------------------------------------------

    async def acquire(self, user_id: uuid.UUID) -> int:
        """LISTEN to the user's channel (if not yet); return the newest id already published."""
        self._refs[user_id] = self._refs.get(user_id, 0) + 1
        timer = self._unlisten_timers.pop(user_id, None)
        if timer is not None:
            timer.cancel()
        self._unlisten_due.discard(user_id)
        if user_id in self._listening and self.connected.is_set():
            return self._last_id.get(user_id, 0)
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(user_id, []).append(waiter)
        self._pending_listen.add(user_id)
        self._inbox.put_nowait(("wake",))
        try:
            return await waiter
        except BaseException:
            waiters = self._waiters.get(user_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(user_id, None)
            self.release(user_id)
            raise

    def release(self, user_id: uuid.UUID) -> None:
        """One stream of the user ended; UNLISTEN after the delay if it was the last."""
        remaining = self._refs.get(user_id, 0) - 1
        if remaining > 0:
            self._refs[user_id] = remaining
            return
        self._refs.pop(user_id, None)
        loop = asyncio.get_running_loop()
        self._unlisten_timers[user_id] = loop.call_later(
            self._unlisten_delay, self._unlisten_later, user_id
        )

    def _unlisten_later(self, user_id: uuid.UUID) -> None:
        self._unlisten_timers.pop(user_id, None)
        self._unlisten_due.add(user_id)
        self._inbox.put_nowait(("wake",))

    @property
    def channel_count(self) -> int:
        """Channels LISTENed on the current connection."""
        return len(self._listening)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, publish: Publish) -> None:
        """Start the task that owns the connection; hand every new row to `publish`."""
        self._publish = publish
        self._task = asyncio.create_task(self._run(), name="vividly-listener")

    async def stop(self) -> None:
        """Stop the task and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for timer in self._unlisten_timers.values():
            timer.cancel()

    async def _run(self) -> None:
        attempt = 0
        while True:
            connection: ListenerConnection | None = None
            try:
                connection = await self._connect()
                await self._serve(connection)
            except (
                OSError,
                TimeoutError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                _ConnectionLost,
            ) as error:
                logger.warning("listener connection lost (%r); reconnecting", error)
            except Exception:
                # A bug must not end delivery for the whole process: log it, start over.
                logger.exception("listener failed; reconnecting")
            finally:
                if self.connected.is_set():
                    attempt = 0  # it worked for a while: come back quickly
                self.connected.clear()
                self._listening.clear()
                self._pending_listen = set(self._refs) | set(self._waiters)
                for user in [user for user in self._last_id if user not in self._refs]:
                    del self._last_id[user]  # nobody to catch up for
                if connection is not None:
                    connection.terminate()
            self.reconnects += 1
            # Full jitter: many processes losing one database do not come back in lockstep.
            await asyncio.sleep(random.uniform(0, min(10.0, 0.2 * 2**attempt)))
            attempt += 1

    async def _connect(self) -> ListenerConnection:
        connection: ListenerConnection = await asyncpg.connect(
            self._dsn,
            connection_class=ListenerConnection,
            server_settings={"application_name": APPLICATION_NAME},
            timeout=self._timeout,
        )
        self._generation += 1
        generation = self._generation
        connection.on_notification = self._on_notification
        connection.add_termination_listener(
            lambda _connection: self._inbox.put_nowait(("lost", generation))
        )
        logger.info("listener connected")
        return connection

    def _on_notification(self, channel: str, payload: str) -> None:
        # Called by the protocol for every NOTIFY: parse and enqueue, nothing else.
        try:
            user_id = user_of(channel)
            message = orjson.loads(payload)
            if not isinstance(message, dict):
                raise ValueError("not an object")
        except ValueError:
            logger.warning("ignoring malformed NOTIFY on %r", channel)
            return
        self.notifications_received += 1
        self._inbox.put_nowait(("notify", user_id, message))

    # -- the connection's one task ----------------------------------------------------------

    async def _serve(self, connection: ListenerConnection) -> None:
        await self._sync_channels(connection)
        self.connected.set()
        last_check = time.monotonic()
        while True:
            try:
                async with asyncio.timeout(self._heartbeat):
                    items = [await self._inbox.get()]
            except TimeoutError:
                items = []
            while not self._inbox.empty():
                items.append(self._inbox.get_nowait())
            if any(item[0] == "lost" and item[1] == self._generation for item in items):
                raise _ConnectionLost("terminated")
            await self._sync_channels(connection)
            await self._deliver([item for item in items if item[0] == "notify"])
            if time.monotonic() - last_check >= self._heartbeat:
                await connection.fetchval("SELECT 1", timeout=self._heartbeat)
                last_check = time.monotonic()

    async def _sync_channels(self, connection: ListenerConnection) -> None:
        # Only users whose state changed are looked at: the cost does not grow with the number
        # of channels already LISTENed.
        to_listen = [
            user
            for user in self._pending_listen
            if (user in self._refs or user in self._waiters) and user not in self._listening
        ]
        self._pending_listen.clear()
        for statement in statements("LISTEN", to_listen):
            await connection.execute(statement, timeout=self._timeout)
        # Now that NOTIFYs flow: users we published to before (we reconnected, or they came
        # back during an UNLISTEN) get what they missed; new users start at their newest id.
        known = [user for user in to_listen if user in self._last_id]
        new = [user for user in to_listen if user not in self._last_id]
        if known:
            await self._catch_up(known)
            await self._resync_read_state(known)
        if new:
            for row in await self._pool.fetch(queries.LATEST_IDS, new, timeout=self._timeout):
                self._last_id[row["user_id"]] = row["latest_id"]
        self._listening.update(to_listen)

        to_unlisten = [
            user
            for user in self._unlisten_due
            if user in self._listening and user not in self._refs and user not in self._waiters
        ]
        self._unlisten_due.clear()
        # Out of `_listening` before the round trip, so an `acquire` meanwhile waits for us.
        self._listening.difference_update(to_unlisten)
        for statement in statements("UNLISTEN", to_unlisten):
            await connection.execute(statement, timeout=self._timeout)
        for user in to_unlisten:
            if user not in self._refs and user not in self._waiters:
                self._last_id.pop(user, None)

        for user in [user for user in self._waiters if user in self._listening]:
            for waiter in self._waiters.pop(user):
                if not waiter.done():
                    waiter.set_result(self._last_id[user])

    async def _catch_up(self, users: list[uuid.UUID]) -> None:
        while users:
            rows = await self._pool.fetch(
                queries.NOTIFICATIONS_AFTER_MANY,
                users,
                [self._last_id[user] for user in users],
                CATCH_UP_PAGE,
                timeout=self._timeout,
            )
            self._publish_rows(rows)
            per_user: dict[uuid.UUID, int] = {}
            for row in rows:
                per_user[row["user_id"]] = per_user.get(row["user_id"], 0) + 1
            users = [user for user, count in per_user.items() if count >= CATCH_UP_PAGE]

    async def _resync_read_state(self, users: list[uuid.UUID]) -> None:
        # Read-state NOTIFYs sent while we were away are gone; send each user's current count.
        for row in await self._pool.fetch(queries.UNREAD_COUNTS_MANY, users, timeout=self._timeout):
            message = {"state": "sync", "unread_count": row["unread_count"]}
            self._publish(row["user_id"], read_state_event(message))

    async def _deliver(self, items: list[tuple[Any, ...]]) -> None:
        # In arrival (= commit) order: runs of new-notification wake-ups are read in one query
        # each; a read-state change is published as it is, after the rows that preceded it.
        pending: list[int] = []
        for _kind, user, message in items:
            if user not in self._last_id:
                continue  # not followed (any more)
            event = message.get("event")
            if event == "notification" and isinstance(message.get("id"), int):
                if message["id"] > self._last_id[user]:
                    pending.append(message["id"])
            elif event == "read_state":
                if pending:
                    self._publish_rows(await self._fetch_by_id(pending))
                    pending = []
                self._publish(user, read_state_event(message))
        if pending:
            self._publish_rows(await self._fetch_by_id(pending))

    async def _fetch_by_id(self, ids: list[int]) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._pool.fetch(
            queries.NOTIFICATIONS_BY_ID, ids, timeout=self._timeout
        )
        return rows

    def _publish_rows(self, rows: list[asyncpg.Record]) -> None:
        for row in rows:  # ordered by id, so each user's rows go out in commit order
            user = row["user_id"]
            if user not in self._last_id or row["id"] <= self._last_id[user]:
                continue  # not followed (any more), or already published
            self._last_id[user] = row["id"]
            self._publish(user, notification_event(row))
