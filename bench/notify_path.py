"""What the channel mode adds to every NOTIFY: the writer's Postgres CPU per 1,000 NOTIFYs.

    python -m bench.notify_path [--count N] [--rounds R]

On a fresh migrated database, nobody listening, one writer committing N NOTIFYs (one per
transaction) through: the senders' body before migration 0022 (`pg_notify('notifications:' ||
user, message)` inside PL/pgSQL, recreated here as `bench_old_notify`), then
`vividly_notify_user_v1` per-user and with 64 shards (its shared advisory lock, its read of
`notify_channels`, the channel). R rounds alternate them; CPU from /proc/<pid>/stat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
import uuid

import asyncpg
import orjson

from db.urls import asyncpg_dsn

from .harness import fresh_database
from .notify_cost import cpu_seconds

OLD = """
CREATE FUNCTION bench_old_notify(p_user_id uuid, p_message jsonb) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('notifications:' || p_user_id, p_message::text);
END
$$
"""

PATHS = [
    ("before 0022: pg_notify in PL/pgSQL", "bench_old_notify", None),
    ("vividly_notify_user_v1, per-user", "vividly_notify_user_v1", None),
    ("vividly_notify_user_v1, 64 shards", "vividly_notify_user_v1", 64),
]


async def one(dsn: str, function: str, shards: int | None, count: int) -> tuple[float, int]:
    """Writer CPU seconds per 1,000 NOTIFYs and commits per second."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("UPDATE notify_channels SET shards = $1", shards)
        pid: int = await connection.fetchval("SELECT pg_backend_pid()")
        users = [uuid.uuid4() for _ in range(1000)]
        sends = [
            (random.choice(users), orjson.dumps({"event": "notification", "id": n}).decode())
            for n in range(count)
        ]
        statement = await connection.prepare(f"SELECT {function}($1, $2::text::jsonb)")
        before, started = cpu_seconds(pid), time.monotonic()
        for user, message in sends:
            await statement.fetchval(user, message)
        cpu, wall = cpu_seconds(pid) - before, time.monotonic() - started
    finally:
        await connection.close()
    return round(cpu / count * 1000, 4), round(count / wall)


async def main(url: str, count: int, rounds: int) -> None:
    dsn = asyncpg_dsn(url)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(OLD)
        print("server", await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    print("load", os.getloadavg())
    print("path | writer CPU s per 1,000 | commits/s")
    for _ in range(rounds):
        for name, function, shards in PATHS:
            cpu, rate = await one(dsn, function, shards, count)
            print(f"{name} | {cpu} | {rate}", flush=True)
    print("load", os.getloadavg())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    asyncio.run(main(fresh_database(), arguments.count, arguments.rounds))
