"""Postgres CPU per 1,000 notifications by channel mode, channels LISTENed and listeners.

`python -m bench.run notify-cost` (options: --notify-channels, --notify-listeners,
--notify-modes, --notify-count, --notify-shards). Nothing of the service runs: K listener
connections (the service's own connection type) LISTEN C channels in all, as K API processes
following C users would, and one writer commits N notifications, one per transaction, each to a
random one of the C users, on the channel the mode gives it:
- `per-user`: `notifications:<user>`; each listener LISTENs C/K users' channels.
- `shards`: `notifications:shard:<k>`, the user in the payload; each listener LISTENs all S
  shard channels and keeps only its own users' notifications, as the listener does.
- `baseline`: the same writer with no listener at all, in the same run.
With `--notify-via function` the writer sends through the triggers' own
`vividly_notify_user_v1` instead (the mode set in the database first, as `vividly-notify
channels` does; the shard then comes from the database's hash): the shipped path, its advisory
lock and its read of the mode included.
The run waits until every notification reached every listener that LISTENs its channel, then
reads the CPU (user + system) of the writer's and the listeners' backends from /proc/<pid>/stat
(pids from pg_backend_pid()): the server must run on this machine. Also reported: the CPU the
LISTENs themselves took (a listener reconnecting pays it again).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from db.urls import asyncpg_dsn
from service.live.channel_mode import PER_USER, SHARD_PREFIX, ChannelMode, set_mode
from service.live.topics import ListenerConnection, channel_of, channel_statements

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Listening:
    """One listener connection and what it heard."""

    def __init__(self, connection: ListenerConnection, pid: int, users: set[uuid.UUID]) -> None:
        self.connection = connection
        self.pid = pid
        self.users = users
        self.heard = 0  # every notification that arrived
        self.kept = 0  # those for this listener's own users
        connection.on_notification = self._on_notification

    def _on_notification(self, channel: str, payload: str) -> None:
        self.heard += 1
        if channel.startswith(SHARD_PREFIX):
            user = uuid.UUID(orjson.loads(payload)["user"])
        else:
            user = uuid.UUID(channel.rpartition(":")[2])
        if user in self.users:
            self.kept += 1


async def open_listeners(
    dsn: str, users: list[uuid.UUID], count: int, mode: ChannelMode
) -> tuple[list[Listening], float]:
    """`count` connections following `users` split evenly; return them and the LISTENs' CPU."""
    listeners = []
    for index in range(count):
        connection: ListenerConnection = await asyncpg.connect(
            dsn, connection_class=ListenerConnection
        )
        pid: int = await connection.fetchval("SELECT pg_backend_pid()")
        listeners.append(Listening(connection, pid, set(users[index::count])))
    before = sum(cpu_seconds(each.pid) for each in listeners)
    for each in listeners:
        for statement in channel_statements("LISTEN", mode.channels(each.users)):
            await each.connection.execute(statement)
    return listeners, sum(cpu_seconds(each.pid) for each in listeners) - before


def shard_of(user: uuid.UUID, shards: int) -> int:
    # Any stable spread will do here: the writer sends pg_notify itself.
    return user.int % shards


async def one_run(
    dsn: str,
    mode: ChannelMode | None,
    channels: int,
    listeners_count: int,
    count: int,
    *,
    via_function: bool = False,
) -> dict[str, Any]:
    """One configuration; `mode` None is the baseline (no listener)."""
    users = [uuid.uuid4() for _ in range(channels)]
    listeners: list[Listening] = []
    listen_cpu = 0.0
    if mode is not None:
        listeners, listen_cpu = await open_listeners(dsn, users, listeners_count, mode)
    writer = await asyncpg.connect(dsn)
    try:
        writer_pid: int = await writer.fetchval("SELECT pg_backend_pid()")
        targets = [random.choice(users) for _ in range(count)]
        messages: list[tuple[Any, str]] = []
        for number, user in enumerate(targets):
            message: dict[str, Any] = {"event": "notification", "id": number}
            if via_function:
                messages.append((user, orjson.dumps(message).decode()))
                continue
            if mode is not None and mode.shards is not None:
                message["user"] = str(user)
                channel = f"{SHARD_PREFIX}{shard_of(user, mode.shards)}"
            else:
                channel = channel_of(user)
            messages.append((channel, orjson.dumps(message).decode()))
        if via_function:
            await set_mode(writer, mode or PER_USER)
        await asyncio.sleep(0.5)  # the LISTENs' own work settles
        pids = [writer_pid] + [each.pid for each in listeners]
        before = [cpu_seconds(pid) for pid in pids]
        started = time.monotonic()
        statement = await writer.prepare(
            "SELECT vividly_notify_user_v1($1, $2::text::jsonb)"
            if via_function
            else "SELECT pg_notify($1, $2)"
        )
        for channel, payload in messages:
            await statement.fetchval(channel, payload)  # autocommit: one transaction each
        committed = time.monotonic() - started
        expected = count if mode is not None and mode.shards is not None else 0
        async with asyncio.timeout(300):
            while listeners and (
                sum(each.kept for each in listeners) < count
                or any(each.heard < expected for each in listeners)
            ):
                await asyncio.sleep(0.02)
        elapsed = time.monotonic() - started
        after = [cpu_seconds(pid) for pid in pids]
    finally:
        await writer.close()
        for each in listeners:
            await each.connection.close()
    writer_cpu = after[0] - before[0]
    listener_cpu = sum(after[1:]) - sum(before[1:])
    per_1000 = 1000 / count
    return {
        "mode": "baseline" if mode is None else str(mode),
        "via": "vividly_notify_user_v1" if via_function else "pg_notify",
        "users": channels,
        "channels_listened": sum(
            len(mode.channels(each.users)) for each in listeners if mode is not None
        ),
        "listeners": len(listeners),
        "notifications": count,
        "commits_per_s": round(count / committed),
        "delivered_s": round(elapsed, 2),
        "listen_cpu_s": round(listen_cpu, 2),
        "writer_cpu_s_per_1000": round(writer_cpu * per_1000, 3),
        "listeners_cpu_s_per_1000": round(listener_cpu * per_1000, 3),
        "postgres_cpu_s_per_1000": round((writer_cpu + listener_cpu) * per_1000, 3),
        "kept": sum(each.kept for each in listeners),
        "heard": sum(each.heard for each in listeners),
    }


async def notify_cost(url: str, args: Any) -> dict[str, Any]:
    """Every (mode, channels, listeners) of the arguments, after one baseline."""
    dsn = asyncpg_dsn(url)
    load_before = os.getloadavg()
    probe = await asyncpg.connect(dsn)
    try:
        version = await probe.fetchval("SHOW server_version")
    finally:
        await probe.close()
    modes = {"per-user": PER_USER, "shards": ChannelMode(args.notify_shards)}
    via = args.notify_via == "function"
    baseline = await one_run(dsn, None, 1000, 0, args.notify_count, via_function=via)
    print(orjson.dumps(baseline).decode(), flush=True)
    runs = [baseline]
    for listeners in args.notify_listeners:
        for channels in args.notify_channels:
            for name in args.notify_modes:
                run = await one_run(
                    dsn, modes[name], channels, listeners, args.notify_count, via_function=via
                )
                run["ratio_to_baseline"] = round(
                    run["postgres_cpu_s_per_1000"] / max(baseline["postgres_cpu_s_per_1000"], 1e-9),
                    2,
                )
                print(orjson.dumps(run).decode(), flush=True)
                runs.append(run)
    return {
        "server_version": version,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "runs": runs,
    }
