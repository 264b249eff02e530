"""Writers for the benchmarks: queued requests completed by many connections, pgbench on the
completion transaction, background writes, and the database's own transaction count."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import asyncpg

from db.urls import asyncpg_dsn

from .scenarios import COMPLETE_NEXT, run_writers, wait_turn


async def fill_queue(url: str, users: list[uuid.UUID], count: int) -> None:
    """`bench_queue`: `count` processing requests of `users`, taken in order by nextval."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(
            """
            DROP TABLE IF EXISTS bench_queue;
            DROP SEQUENCE IF EXISTS bench_queue_seq;
            CREATE SEQUENCE bench_queue_seq;
            CREATE TABLE bench_queue (n bigint PRIMARY KEY, id uuid NOT NULL);
            """
        )
        await connection.execute(
            """
            WITH created AS (
                INSERT INTO content_requests (student_id, status, question)
                SELECT ($1::uuid[])[1 + floor(random() * array_length($1::uuid[], 1))::int],
                       'processing', 'bench'
                FROM generate_series(1, $2)
                RETURNING id
            )
            INSERT INTO bench_queue (n, id) SELECT row_number() OVER (), id FROM created
            """,
            users,
            count,
        )
        await connection.execute("ANALYZE content_requests; ANALYZE bench_queue")
    finally:
        await connection.close()


async def completed_requests(url: str) -> list[tuple[uuid.UUID, uuid.UUID]]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT c.id, c.student_id FROM bench_queue q JOIN content_requests c ON c.id = q.id"
            " WHERE c.status = 'completed'"
        )
    finally:
        await connection.close()
    return [(row["id"], row["student_id"]) for row in rows]


async def drive_queue(
    url: str, seconds: float, writers: int
) -> tuple[dict[uuid.UUID, float], dict[uuid.UUID, float], float]:
    """Complete queued requests as fast as `writers` connections can, for `seconds`.

    Returns when each UPDATE was issued and when it returned (committed), and the wall time.
    """
    issued: dict[uuid.UUID, float] = {}
    committed: dict[uuid.UUID, float] = {}
    deadline = time.monotonic() + seconds

    async def write(_index: int, connection: asyncpg.Connection) -> None:
        statement = await connection.prepare(COMPLETE_NEXT + " RETURNING id")
        while time.monotonic() < deadline:
            started = time.monotonic()
            request_id = await statement.fetchval()
            if request_id is None:
                return  # the queue ran dry
            issued[request_id] = started
            committed[request_id] = time.monotonic()

    started = time.monotonic()
    await run_writers(url, writers, write)
    return issued, committed, time.monotonic() - started


async def pgbench(url: str, script: str, clients: int, seconds: int) -> float:
    """Run pgbench (the binary pgserver ships) with `script`; return its tps."""
    from pathlib import Path

    import pgserver

    binary = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
    script_file = Path("/tmp") / f"vividly-bench-{uuid.uuid4().hex[:6]}.sql"
    script_file.write_text(script.strip() + ";\n")
    process = await asyncio.create_subprocess_exec(
        str(binary), "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-M", "prepared",
        "-f", str(script_file), asyncpg_dsn(url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await process.communicate())[0].decode()
    script_file.unlink()
    for line in output.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"pgbench printed no tps:\n{output}")


async def drive_background(
    url: str, users: list[uuid.UUID], rate: float, stop: asyncio.Event, writers: int = 4
) -> dict[uuid.UUID, tuple[uuid.UUID, float]]:
    """Complete new requests of random `users` at `rate` until `stop`; request -> (user, commit)."""
    committed: dict[uuid.UUID, tuple[uuid.UUID, float]] = {}
    start = time.monotonic()

    async def write(index: int, connection: asyncpg.Connection) -> None:
        n = index
        while not stop.is_set():
            await wait_turn(start, rate, n)
            user = random.choice(users)
            request_id = await connection.fetchval(
                "INSERT INTO content_requests (student_id, status, question, title)"
                " VALUES ($1, 'completed', 'bench', 'Bench video') RETURNING id",
                user,
            )
            committed[request_id] = (user, time.monotonic())
            n += writers

    await run_writers(url, writers, write)
    return committed


async def database_transactions(url: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("SELECT pg_stat_force_next_flush()")
        value: int = await connection.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    return value
