"""What a completion costs Postgres: the worker's UPDATE alone, and with our notification.

    python -m bench.completion_cost [--count N] [--rounds R] [--writers W] [--shards S]

On a fresh migrated database (`harness.fresh_database`), W writer connections complete N
requests in `processing` each, as fast as they can, with the fleet's statement
(`scenarios.COMPLETE`), in two ways that R rounds alternate:
- `trigger off`: `content_requests_notify_update` disabled: the worker's own UPDATE, its other
  triggers, its indexes and its commit, what it would cost without this service;
- `trigger on`: as shipped: the trigger's INSERT into `notifications`, its per-user lock and
  the NOTIFY on the user's channel (per-user, or one of S shard channels with `--shards`).
Nobody listens, nothing reads: the fleet's `listeners` and `queries` roles come on top.

Reported per way: Postgres CPU seconds per 1,000 completions (every process of the server,
`harness.postgres_cpu_by_role`, so the WAL writer's and the writers' backends alike) and
completions per second. The server must run on this machine (the embedded one does).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import asyncpg

from db.urls import asyncpg_dsn

from .harness import fresh_database, postgres_cpu_by_role
from .scenarios import COMPLETE, make_requests, run_writers

TRIGGER = "content_requests_notify_update"
WAYS = ("trigger off", "trigger on")


async def one_round(url: str, way: str, count: int, writers: int) -> dict[str, float]:
    """Complete `count` fresh requests one way; CPU per 1,000 and completions per second."""
    users = [uuid.uuid4() for _ in range(max(count // 10, 1))]
    requests = await make_requests(url, users, count)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        enable = "ENABLE" if way == "trigger on" else "DISABLE"
        await connection.execute(f"ALTER TABLE content_requests {enable} TRIGGER {TRIGGER}")
        await connection.execute("CHECKPOINT")  # each round starts with the WAL flushed
    finally:
        await connection.close()

    async def write(index: int, writer: asyncpg.Connection) -> None:
        statement = await writer.prepare(COMPLETE)
        for request_id, _user in requests[index::writers]:
            await statement.fetch(request_id)

    before = sum((await postgres_cpu_by_role(url)).values())
    started = time.monotonic()
    await run_writers(url, writers, write)
    wall = time.monotonic() - started
    cpu = sum((await postgres_cpu_by_role(url)).values()) - before
    return {"cpu_s_per_1000": cpu / count * 1000, "per_s": count / wall}


async def main(args: argparse.Namespace, url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("UPDATE notify_channels SET shards = $1", args.shards)
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    channels = f"{args.shards} shard channels" if args.shards else "per-user channels"
    print(
        f"PostgreSQL {version}; {args.count} completions per round, {args.writers} writers, "
        f"{channels}"
    )
    print("round | way | Postgres CPU s per 1,000 completions | completions/s")
    results: dict[str, list[float]] = {way: [] for way in WAYS}
    for round_number in range(1, args.rounds + 1):
        for way in WAYS if round_number % 2 else reversed(WAYS):
            result = await one_round(url, way, args.count, args.writers)
            results[way].append(result["cpu_s_per_1000"])
            print(
                f"{round_number} | {way} | {result['cpu_s_per_1000']:.3f} | {result['per_s']:.0f}"
            )
    off, on = (statistics.median(results[way]) for way in WAYS)
    print(f"median: trigger off {off:.3f}, trigger on {on:.3f} s per 1,000; on/off {on / off:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--shards", type=int, default=None)
    asyncio.run(main(parser.parse_args(), fresh_database()))
