"""A client that stops reading is dropped; the other streams do not wait for it."""

from __future__ import annotations

import time
import uuid

import asyncpg

from db.pool import connect
from tests.support.server import (
    complete,
    open_stream,
    open_unread_stream,
    running_server,
    settings_for,
)
from tests.support.waiting import until

BIG_TITLE = "x" * 6000  # ~6 KB per event: the slow socket's buffers fill after a few MB


async def test_slow_client_is_dropped_and_the_fast_one_keeps_up(
    database_url: str, conn: asyncpg.Connection
) -> None:
    settings = settings_for(database_url, stream_queue_size=16, send_timeout_seconds=1)
    slow_user, fast_user = uuid.uuid4(), uuid.uuid4()
    async with running_server(settings) as server:
        slow = await open_unread_stream(server.base_url, server.token(slow_user))
        try:
            async with open_stream(server.base_url, server.token(fast_user)) as fast:
                await fast.next_data()
                writer = await connect(database_url)
                latencies: list[float] = []
                try:
                    for round_ in range(40):
                        for _ in range(30):
                            await complete(writer, slow_user, title=BIG_TITLE)
                        started = time.monotonic()
                        await complete(writer, fast_user, title=f"fast {round_}")
                        await fast.notifications(1, timeout=2)
                        latencies.append(time.monotonic() - started)
                        if server.hub.stream_count(slow_user) == 0:
                            break
                finally:
                    await writer.close()

                async def slow_dropped() -> bool:
                    return server.hub.stream_count(slow_user) == 0

                # The send timeout is 1 s.
                await until(slow_dropped, "the slow stream is dropped", timeout=3)
                dropped = server.hub.closed_by_reason
                assert dropped["overflow"] + dropped["send_timeout"] >= 1
                assert max(latencies) < 0.5, latencies
                # The fast stream is still open and live.
                await complete(conn, fast_user)
                assert len(await fast.notifications(1)) == 1
        finally:
            slow.close()
