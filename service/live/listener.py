"""The process's one LISTEN connection: a transport that hands on what it hears.

Knows nothing of rows or cursors (that is `feed.py`). Guarantees:
- One dedicated asyncpg connection (never pooled: a pool's reset runs `UNLISTEN *`), owned by
  one task that runs every LISTEN, UNLISTEN and health check, so nothing races on it.
- Every `listen(user)` is acknowledged: once the user's channel is LISTENed on the current
  connection, a `Listening` naming the user is handed on. Whatever commits after that is
  NOTIFYed to us; what committed before is the caller's to read from the table.
- Items are handed on in the order they happened: `Heard` (a NOTIFY, in commit order),
  `Listening`, `Lost` (the connection is gone; everything acknowledged on it is void).
- The channel mode (`channel_mode.py`) is the database's: read right after LISTENing its control
  channel on every connection, and again each time that channel is NOTIFYed. In shard mode the
  shard channels are LISTENed once per connection and a `listen` needs no round trip. Only
  NOTIFYs for acknowledged users are handed on: in shard mode this drops other processes'
  users. On a change of mode the new channels are LISTENed before the old ones are UNLISTENed,
  then one `Listening` names every acknowledged user: the feed reads them all again from the
  table, which covers whatever the switch did not wake.
- Connection loss is noticed by the termination callback or, for a silent peer, by a
  `SELECT 1` heartbeat with a timeout. The task reconnects with jittered exponential backoff
  and LISTENs every wanted channel again in batched round trips, then acknowledges them all.
- Connected is not the same as receiving: on each heartbeat (and right after connecting) a
  probe NOTIFY is sent on a channel of this listener's own, through `probe` (the writers'
  pool, so a listener on another database, behind transaction pooling or on a standby never
  hears it). Each probe is judged at the next heartbeat (`probes.py`): heard, *committed and
  not heard*, or not sent (the pool exhausted, a stall on the NOTIFY commit lock: slowness, not
  deafness). `deaf` holds only after `deaf_probes` committed probes in a row went unheard on a
  connection that answers its heartbeats; a probe that failed to send counts neither way, one
  heard clears it. `receiving_problem` says why the listener cannot serve (not running, not
  connected, no probe heard yet on this connection, deaf); `receiving_warning` what deserves a
  look (a probe not sent, none heard for a while); `probe_age` is the seconds since one was
  heard.
- Its backend gives up on this process within about `tcp_timeout` seconds once the process is
  gone without closing the connection (a pod that vanished): TCP keepalives and
  `tcp_user_timeout` on the server's side of the connection (db/pool.py `set_keepalives`).
  Until then that backend would hold the NOTIFY queue's tail for everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import asyncpg

from db.pool import set_keepalives
from db.urls import asyncpg_dsn

from . import channel_mode
from .channel_mode import CONTROL_CHANNEL, PER_USER, ChannelMode
from .probes import Probes
from .topics import ListenerConnection, channel_statements

logger = logging.getLogger(__name__)

APPLICATION_NAME = "vividly-listener"
# Seconds a LISTEN waits for others to share its round trip (and the feed's first read). A
# burst of connects shares it: at 10 ms a connect cost 0.8 of its CPU at 2 ms (bench/RESULTS.md,
# 2026-12-08); a new user's first stream waits up to ~8 ms longer for `connected`.
LISTEN_WINDOW = 0.010
PROBE_PREFIX = "vividly-probe:"
PROBE_STALE_HEARTBEATS = 2.5  # no probe heard for this many heartbeats: not receiving
DEFAULT_TCP_TIMEOUT = 30.0  # seconds (LISTENER_TCP_TIMEOUT_SECONDS)

# Sends `NOTIFY channel, payload` (committed) the way the writers do.
Probe = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Heard:
    """A NOTIFY on a user's channel, its JSON payload parsed; `at`: when (monotonic)."""

    user: uuid.UUID
    message: dict[str, Any]
    at: float | None = field(default=None, compare=False)  # metadata, not what was heard


@dataclass(frozen=True, slots=True)
class Listening:
    """These users' channels are LISTENed on the current connection from now on."""

    users: tuple[uuid.UUID, ...]


class Lost:
    """The connection is gone: NOTIFYs may have been missed until the next `Listening`."""

    __slots__ = ()


LOST: Final = Lost()

Item = Heard | Listening | Lost


class _ConnectionLost(Exception):
    pass


async def open_listener_connection(
    dsn: str, *, connect_timeout: float, tcp_timeout: float
) -> ListenerConnection:
    """A connection made the way the listener makes its own (not yet LISTENing)."""
    connection: ListenerConnection = await asyncpg.connect(
        dsn,
        connection_class=ListenerConnection,
        server_settings={"application_name": APPLICATION_NAME},
        timeout=connect_timeout,
    )
    try:
        await set_keepalives(connection, tcp_timeout)
    except BaseException:
        connection.terminate()
        raise
    return connection


class Listener:
    """Keeps the wanted channels LISTENed on one connection and hands on what arrives."""

    def __init__(
        self,
        url: str,
        *,
        heartbeat: float,
        probe: Probe | None = None,
        tcp_timeout: float = DEFAULT_TCP_TIMEOUT,
        deaf_probes: int = 3,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._heartbeat = heartbeat
        self._tcp_timeout = tcp_timeout
        self._probe = probe
        self._deaf_probes = deaf_probes
        self.probe_channel = PROBE_PREFIX + uuid.uuid4().hex
        self.probes = Probes()
        self._connected_at: float | None = None  # monotonic, of the current connection
        self._answered_at: float | None = None  # its last heartbeat `SELECT 1` answered
        self._probe_task: asyncio.Task[None] | None = None
        # Every await of the listener task is bounded: a silent database must not stall it.
        self._timeout = max(3 * heartbeat, 10.0)
        self._wanted: set[uuid.UUID] = set()
        self._listening: set[uuid.UUID] = set()  # on the current connection
        self._to_listen: set[uuid.UUID] = set()  # asked for, not yet acknowledged
        self._to_unlisten: set[uuid.UUID] = set()
        self._mode = PER_USER  # of the current connection
        self._mode_changed = False  # the control channel was NOTIFYed: read the mode again
        self._items: asyncio.Queue[Item] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._lost_generation = 0
        self._generation = 0
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.notifications_received = 0
        self.mode_switches = 0

    # -- what the feed calls -----------------------------------------------------------------

    def listen(self, user: uuid.UUID) -> None:
        """Want the user's channel; a `Listening` naming them follows once it is LISTENed."""
        self._wanted.add(user)
        self._to_unlisten.discard(user)
        self._to_listen.add(user)
        self._wake.set()

    def unlisten(self, user: uuid.UUID) -> None:
        """No longer want the user's channel."""
        self._wanted.discard(user)
        self._to_listen.discard(user)
        self._to_unlisten.add(user)
        self._wake.set()

    async def next_batch(self) -> list[Item]:
        """What happened since the last call, in order; waits for at least one item.

        Cancelling the wait loses nothing.
        """
        batch = [await self._items.get()]
        while not self._items.empty():
            batch.append(self._items.get_nowait())
        return batch

    @property
    def channel_count(self) -> int:
        """Channels LISTENed on the current connection (besides the probe and control ones)."""
        return len(self._mode.fixed_channels()) + len(self._mode.user_channels(self._listening))

    @property
    def mode(self) -> ChannelMode:
        """The channel mode of the current connection (of the last one while reconnecting)."""
        return self._mode

    def receiving_problem(self) -> str | None:
        """Why this listener is not known to receive NOTIFYs right now; None when it is."""
        if self._task is None or self._task.done():
            return "listener: its task is not running"
        if not self.connected.is_set():
            return "listener: not connected to the database (LISTEN_DATABASE_URL)"
        heard, error = self.probes.heard_at, self.probes.error
        if heard is not None and not self.deaf():
            return None
        if heard is None and error is not None:
            return f"listener: connected, could not send its probe NOTIFY yet ({error})"
        silent = "yet" if heard is None else f"for {time.monotonic() - heard:.1f} s"
        return (
            f"listener: connected, but has not heard its own NOTIFY {silent}: LISTEN must reach "
            "the primary that DATABASE_URL writes to, directly or through session pooling"
        )

    def receiving_warning(self) -> str | None:
        """What deserves a look while the listener is not deaf: a probe that could not be sent
        (the writers' pool or the database is slow), or none heard for a while."""
        if self.receiving_problem() is not None:
            return None
        if self.probes.error is not None:
            return f"listener: could not send its last probe NOTIFY ({self.probes.error})"
        age = self.probe_age()
        if age is not None and age > PROBE_STALE_HEARTBEATS * self._heartbeat:
            return f"listener: last heard its own NOTIFY {age:.1f} s ago"
        return None

    def probe_age(self) -> float | None:
        """Seconds since a probe was last heard (on any connection); None before the first."""
        if self.probes.last_heard_at is None:
            return None
        return time.monotonic() - self.probes.last_heard_at

    def deaf(self) -> bool:
        """`deaf_probes` probes in a row committed and went unheard while the connection
        answers its heartbeats: streams served now would get nothing live. False while not
        connected, while the connection does not answer (a silent or stalled backend: the
        heartbeat reconnects that, and the feed catches up), and while probes merely fail to
        be sent (slowness: refusing streams would send clients into a database already slow).
        """
        answered_at = self._answered_at
        if not self.connected.is_set() or answered_at is None:
            return False
        if time.monotonic() - answered_at > PROBE_STALE_HEARTBEATS * self._heartbeat:
            return False
        return self.probes.deaf_streak >= self._deaf_probes

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the task that owns the connection."""
        self._task = asyncio.create_task(self._run(), name="vividly-listener")

    async def stop(self) -> None:
        """Stop the task and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._probe_task

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
                self.probes.reset()  # what the next connection hears must be proven
                if connection is not None:
                    self._listening.clear()
                    self._items.put_nowait(LOST)
                    connection.terminate()
            self.reconnects += 1
            # Full jitter: many processes losing one database do not come back in lockstep.
            await asyncio.sleep(random.uniform(0, min(10.0, 0.2 * 2**attempt)))
            attempt += 1

    async def _connect(self) -> ListenerConnection:
        connection = await open_listener_connection(
            self._dsn, connect_timeout=self._timeout, tcp_timeout=self._tcp_timeout
        )
        self._generation += 1
        self._connected_at = time.monotonic()
        self._answered_at = None
        generation = self._generation
        connection.on_notification = self._on_notification
        connection.add_termination_listener(lambda _connection: self._terminated(generation))
        await connection.execute(
            f'LISTEN "{self.probe_channel}"; LISTEN "{CONTROL_CHANNEL}"', timeout=self._timeout
        )
        # Read after the control channel is LISTENed: a change committed later is heard.
        self._mode_changed = False
        async with asyncio.timeout(self._timeout):
            self._mode = await channel_mode.read_mode(connection)
        for statement in channel_statements("LISTEN", self._mode.fixed_channels()):
            await connection.execute(statement, timeout=self._timeout)
        # A new connection listens to nothing: every wanted channel again, all acknowledged.
        self._to_listen = set(self._wanted)
        self._to_unlisten.clear()
        logger.info("listener connected, channels: %s", self._mode)
        return connection

    def _terminated(self, generation: int) -> None:
        self._lost_generation = generation
        self._wake.set()

    def _on_notification(self, channel: str, payload: str) -> None:
        # Called by the protocol for every NOTIFY: parse and enqueue, nothing else.
        if channel == self.probe_channel:
            self.probes.echo(payload)
            return
        if channel == CONTROL_CHANNEL:
            self._mode_changed = True
            self._wake.set()
            return
        try:
            user, message = channel_mode.heard(channel, payload)
        except (ValueError, KeyError):
            logger.warning("ignoring malformed NOTIFY on %r", channel)
            return
        if user not in self._listening:
            return  # another process's user (shard mode), or one no longer followed
        self.notifications_received += 1
        self._items.put_nowait(Heard(user, message, time.monotonic()))

    # -- the connection's one task -----------------------------------------------------------

    async def _serve(self, connection: ListenerConnection) -> None:
        last_check = -math.inf  # the first turn sends a probe at once
        while True:
            # Cleared before the round trips: a `listen` during them wakes the next turn.
            self._wake.clear()
            if self._mode_changed:
                await self._follow_mode(connection)
            await self._sync_channels(connection)
            self.connected.set()
            if time.monotonic() - last_check >= self._heartbeat:
                await connection.fetchval("SELECT 1", timeout=self._heartbeat)
                last_check = self._answered_at = time.monotonic()
                await self._send_probe(connection)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._heartbeat):
                    await self._wake.wait()
            if self._lost_generation == self._generation:
                raise _ConnectionLost("terminated")
            if self._to_listen:
                # A burst of new streams asks for channels a few at a time: gather a moment's
                # worth into one round trip (bench/RESULTS.md, 2026-11-27).
                await asyncio.sleep(LISTEN_WINDOW)

    async def _send_probe(self, connection: ListenerConnection) -> None:
        if self._probe_task is not None and not self._probe_task.done():
            return  # the last one is still on its way: neither heard nor unheard
        # A heartbeat after the last one was sent: committed, it had all that time to come back.
        channel, payload = self.probe_channel, self.probes.next()
        if self._probe is None:  # no writers' path given: at least this connection hears itself
            await connection.execute(
                "SELECT pg_notify($1, $2)", channel, payload, timeout=self._heartbeat
            )
            self.probes.committed(payload)
            return
        probe = self._probe

        async def send() -> None:
            try:
                async with asyncio.timeout(self._heartbeat):
                    await probe(channel, payload)
                self.probes.committed(payload)
            except Exception as error:  # reported by `receiving_problem`/`receiving_warning`
                self.probes.send_failed(error)

        # Its own task: the writers' pool may be slow or down, and this task must not wait.
        self._probe_task = asyncio.create_task(send(), name="vividly-listener-probe")

    async def _follow_mode(self, connection: ListenerConnection) -> None:
        self._mode_changed = False
        async with asyncio.timeout(self._timeout):
            mode = await channel_mode.read_mode(connection)
        if mode == self._mode:
            return
        users = list(self._listening)
        new = mode.channels(users)
        kept = set(new)
        gone = [channel for channel in self._mode.channels(users) if channel not in kept]
        # The new channels first: from here on both modes' NOTIFYs are heard.
        for statement in channel_statements("LISTEN", new):
            await connection.execute(statement, timeout=self._timeout)
        # Every NOTIFY of the old mode is in the queue before the control message that woke
        # this, so it has been handed on: the old channels can go.
        for statement in channel_statements("UNLISTEN", gone):
            await connection.execute(statement, timeout=self._timeout)
        logger.info("listener channels: %s, was %s", mode, self._mode)
        self._mode = mode
        self.mode_switches += 1
        if users:
            # What committed between the change and the new LISTENs woke nobody: read it.
            self._items.put_nowait(Listening(tuple(users)))

    async def _sync_channels(self, connection: ListenerConnection) -> None:
        # Only channels whose state changed are looked at: the cost does not grow with the
        # number already LISTENed.
        asked = [user for user in self._to_listen if user in self._wanted]
        self._to_listen.clear()
        new = [user for user in asked if user not in self._listening]
        for statement in channel_statements("LISTEN", self._mode.user_channels(new)):
            await connection.execute(statement, timeout=self._timeout)
        self._listening.update(new)
        if asked:
            self._items.put_nowait(Listening(tuple(asked)))

        gone = [user for user in self._to_unlisten if user not in self._wanted]
        self._to_unlisten.clear()
        gone = [user for user in gone if user in self._listening]
        # Out of `_listening` before the round trip: a `listen` meanwhile LISTENs again.
        self._listening.difference_update(gone)
        for statement in channel_statements("UNLISTEN", self._mode.user_channels(gone)):
            await connection.execute(statement, timeout=self._timeout)
