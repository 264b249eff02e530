"""A LISTENing test connection that collects NOTIFY payloads in a queue."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from db.pool import connect


@asynccontextmanager
async def listening(url: str, user_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    """Yield a queue that receives every NOTIFY on `notifications:<user_id>`."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    connection = await connect(url)

    def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        queue.put_nowait(json.loads(payload))

    await connection.add_listener(f"notifications:{user_id}", on_notify)
    try:
        yield queue
    finally:
        await connection.close()


async def assert_silent(queue: asyncio.Queue[dict[str, Any]], seconds: float = 0.3) -> None:
    """Assert that nothing arrives within `seconds`."""
    try:
        got = await asyncio.wait_for(queue.get(), seconds)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected NOTIFY {got}")
