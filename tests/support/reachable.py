"""Exit 0 when the Postgres at argv[1] accepts a connection within 3 s, else 1."""

from __future__ import annotations

import asyncio
import sys

import asyncpg


async def _reachable(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(_reachable(sys.argv[1])) else 1)
