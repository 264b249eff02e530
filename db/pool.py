"""asyncpg pool set-up: JSON codecs on every connection, sized from settings; keepalives for
connections that LISTEN."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from .urls import asyncpg_dsn


def keepalive_settings(seconds: float) -> dict[str, str]:
    """Server settings under which the backend drops its connection within about `seconds` of
    the client vanishing (no FIN, no RST: a pod gone with its network).

    Keepalives cover an idle connection (probes after a third of the time, then four more);
    `tcp_user_timeout` covers one with data in flight (a NOTIFY sent to the dead peer is
    otherwise retransmitted for ~15 minutes). Both are per session; over a Unix socket Postgres
    ignores them. Through a proxy (PgBouncer, a cloud SQL proxy) they apply to the proxy's side.
    """
    whole = max(int(seconds), 4)
    idle = max(whole // 3, 1)
    count = 4
    interval = max((whole - idle) // count, 1)
    return {
        "tcp_keepalives_idle": str(idle),
        "tcp_keepalives_interval": str(interval),
        "tcp_keepalives_count": str(count),
        "tcp_user_timeout": str(whole * 1000),
    }


async def set_keepalives(connection: asyncpg.Connection, seconds: float) -> None:
    """Apply `keepalive_settings(seconds)` to this session, in one round trip.

    SET, not startup parameters: PgBouncer (session mode) refuses startup parameters it does not
    know, and passes SET on to the server.
    """
    await connection.execute(
        "".join(f"SET {name} = {value};" for name, value in keepalive_settings(seconds).items())
    )


async def init_connection(connection: asyncpg.Connection) -> None:
    """Decode json/jsonb to Python objects on this connection."""
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _reset(connection: asyncpg.Connection) -> None:
    # asyncpg's default reset sends `UNLISTEN *; RESET ALL; ...` on every release: one extra
    # round trip per query. Pooled connections here never LISTEN, SET, hold session advisory
    # locks or cursors (the listener has its own connection), so only an open transaction
    # could leak, and that is rolled back.
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool on `url` whose connections decode JSON."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        asyncpg_dsn(url),
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=_reset,
    )
    return pool


async def connect(url: str, **kwargs: Any) -> asyncpg.Connection:
    """One connection outside any pool (the listener's, or a test's)."""
    connection: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(url), **kwargs)
    await init_connection(connection)
    return connection
