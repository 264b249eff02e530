"""A worker's LISTEN connection asks its backend to drop it soon after the worker vanishes.

Like the API's listener (tests/live/test_listener.py): a worker pod gone without closing its
connection would otherwise leave a listening backend holding the NOTIFY queue's tail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import asyncpg
import pytest

from service.requests.runner import Worker, WorkerConfig
from tests.support.tls_postgres import server_programs, tls_postgres

KEEPALIVES = (
    "SELECT current_setting('tcp_keepalives_idle')::int, "
    "current_setting('tcp_keepalives_interval')::int, "
    "current_setting('tcp_keepalives_count')::int, current_setting('tcp_user_timeout')::int"
)


@pytest.fixture(scope="module")
def tcp_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Postgres reached over TCP (keepalives mean nothing on the embedded one's Unix socket)."""
    if server_programs() is None:
        pytest.skip("no PostgreSQL server programs on this machine")
    with tls_postgres(tmp_path_factory.mktemp("tcp") / "server") as server:
        yield server.url("sslmode=require")


async def test_a_workers_listen_connection_sets_keepalives(tcp_server_url: str) -> None:
    config = WorkerConfig(
        lease_seconds=30, poll_seconds=5, max_attempts=1, shutdown_grace_seconds=1, tcp_timeout=12
    )
    # Only the LISTEN connection is made here: no pool, no pipeline.
    worker = Worker(tcp_server_url, cast(asyncpg.Pool, None), cast(Any, None), config)
    await worker._ensure_listening()
    connection = worker._listener
    assert connection is not None
    try:
        idle, interval, count, user_timeout = await connection.fetchrow(KEEPALIVES)
    finally:
        await connection.close()
    assert user_timeout == 12_000  # ms
    assert 0 < idle < 12
    assert idle + interval * count <= 12
