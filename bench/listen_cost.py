"""Why the listener LISTENs in batches instead of through asyncpg's `add_listener`.

`add_listener` is asyncpg's public way to receive notifications, but it runs one `LISTEN` round
trip per channel and keeps a set of callbacks per channel. After a reconnect the listener must
LISTEN every followed user's channel again before it can catch them up, so this cost is paid in
full each time. Measured here on the same connection, same channels:

    python -m bench.listen_cost [DATABASE_URL] [CHANNELS]
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import uuid

import asyncpg

from service.live.topics import channel_of, statements

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


async def main(url: str, count: int) -> None:
    users = [uuid.uuid4() for _ in range(count)]

    def callback(*_args: object) -> None:
        pass

    connection = await asyncpg.connect(url)
    try:
        tracked = len(gc.get_objects())
        started = time.perf_counter()
        for user in users:
            await connection.add_listener(channel_of(user), callback)
        one_by_one = time.perf_counter() - started
        per_channel_objects = (len(gc.get_objects()) - tracked) / count
        for user in users:
            await connection.remove_listener(channel_of(user), callback)

        started = time.perf_counter()
        for statement in statements("LISTEN", users):
            await connection.execute(statement)
        batched = time.perf_counter() - started
        await connection.execute("UNLISTEN *")
    finally:
        await connection.close()
    print(f"channels: {count}")
    print(f"add_listener, one round trip each: {one_by_one:.3f} s")
    print(f"batched LISTEN statements:         {batched:.3f} s")
    print(f"ratio: {one_by_one / batched:.1f}x")
    print(f"GC-tracked objects added per channel by add_listener: {per_channel_objects:.1f}")


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL,
            int(sys.argv[2]) if len(sys.argv) > 2 else 10_000,
        )
    )
