"""TLS to the database: `sslmode` (and `sslrootcert`) in DATABASE_URL hold for every connection.

Against a real Postgres that accepts TLS connections only, with a certificate authority made
for the test (tests/tls_postgres.py): migrations, the pool, the listener and the worker connect
with `sslmode=require` and `sslmode=verify-full`; `verify-full` against another authority fails,
and the command says why.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import asyncpg
import pytest

from db import migrate
from db.pool import connect, create_pool
from db.urls import unverified_tls, with_database
from service.live.listener import Listener
from tests.support.tls_postgres import TlsServer, server_programs, tls_postgres
from tests.support.waiting import until

pytestmark = pytest.mark.skipif(
    server_programs() is None, reason="no PostgreSQL server built with SSL on this machine"
)

COMMAND = [sys.executable, "-m", "service"]
ENCRYPTED = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    with tls_postgres(tmp_path_factory.mktemp("tls") / "server") as server:
        yield server


def database(server: TlsServer, query: str) -> str:
    """A fresh database on the TLS server; its URL with `query`."""
    import uuid

    name = f"vividly_tls_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        admin = await asyncpg.connect(server.url("sslmode=require"))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    asyncio.run(create())
    return with_database(server.url(query), name)


@pytest.mark.parametrize("mode", ["require", "verify-ca", "verify-full"])
def test_migrations_pool_and_listener_connect_over_tls(tls_server: TlsServer, mode: str) -> None:
    query = f"sslmode={mode}" + ("" if mode == "require" else f"&sslrootcert={tls_server.ca_file}")
    url = database(tls_server, query)
    migrate.upgrade(url)

    async def check() -> None:
        pool = await create_pool(url, min_size=1, max_size=2)
        try:
            assert await pool.fetchval(ENCRYPTED) is True
            assert await pool.fetchval("SELECT count(*) FROM notifications") == 0
        finally:
            await pool.close()
        listener = Listener(url, heartbeat=1)
        listener.start()
        try:
            await until(
                lambda: listener.receiving_problem() is None,
                "the listener hears its own NOTIFY over TLS",
                timeout=10,
            )
        finally:
            await listener.stop()

    asyncio.run(check())


def test_the_migrate_command_and_the_worker_connect_with_verify_full(
    tls_server: TlsServer,
) -> None:
    url = database(tls_server, f"sslmode=verify-full&sslrootcert={tls_server.ca_file}")
    env = {**os.environ, "DATABASE_URL": url}
    migrated = subprocess.run([*COMMAND, "migrate"], env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr[-2000:]

    async def worker_listens() -> None:
        worker = await asyncio.create_subprocess_exec(*COMMAND, "worker", env=env)
        observer = await connect(url)
        try:

            async def listening() -> bool:
                return bool(
                    await observer.fetchval(
                        "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
                        " WHERE a.datname = current_database() AND a.query LIKE 'LISTEN%'"
                        " AND s.ssl"
                    )
                )

            await until(listening, "the worker LISTENs over TLS", timeout=30)
        finally:
            worker.send_signal(signal.SIGTERM)
            await asyncio.wait_for(worker.wait(), 30)
            await observer.close()

    asyncio.run(worker_listens())


def test_verify_full_against_another_authority_fails_with_the_reason(
    tls_server: TlsServer,
) -> None:
    url = tls_server.url(f"sslmode=verify-full&sslrootcert={tls_server.wrong_ca_file}")
    env = {**os.environ, "DATABASE_URL": url}
    result = subprocess.run([*COMMAND, "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "certificate verify failed" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_url_without_tls_is_refused_by_this_server(tls_server: TlsServer) -> None:
    # The server really demands TLS: what connects above used it.
    async def plain() -> None:
        with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
            await asyncpg.connect(tls_server.url("sslmode=disable"))

    asyncio.run(plain())


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("postgresql://u@db.internal/app", True),  # asyncpg's default: sslmode=prefer
        ("postgresql://u@db.internal/app?sslmode=require", True),
        ("postgresql://u@db.internal/app?sslmode=verify-full&sslrootcert=/ca.pem", False),
        ("postgresql://u@db.internal/app?sslmode=verify-ca&sslrootcert=/ca.pem", False),
        ("postgresql://u@localhost/app", False),
        ("postgresql://u@/app?host=/run/postgresql", False),
    ],
)
def test_a_remote_database_without_certificate_checks_is_named(url: str, warned: bool) -> None:
    reason = unverified_tls(url)
    assert (reason is not None) is warned
    if reason is not None:
        assert "db.internal" in reason
        assert "verify-full" in reason
