"""The notifying-commit ceiling, with and without a simulated commit latency.

Every transaction that NOTIFYs takes one cluster-wide lock at commit and holds it through its
WAL flush (and, with synchronous replication, the standby's acknowledgement): such commits run
one at a time, so their rate is at most 1 / (commit latency). This runs pgbench with
bench/ceiling/notify.sql (a row update + pg_notify) and bench/ceiling/plain.sql (the same
without pg_notify) on a scratch table, for each simulated latency.

The latency is simulated with `commit_delay` (microseconds, at most 100,000) and
`commit_siblings=0`, set per session through PGOPTIONS: the backend that flushes WAL sleeps that
long *before* the flush, holding the WAL write lock (and, if it NOTIFYed, the NOTIFY lock).
What that models: a commit whose durable acknowledgement takes that much longer (a slow
network disk, a synchronous standby's round trip) for the transaction holding the NOTIFY lock.
What it does not: the delay is a fixed sleep, not a distribution; it happens before the flush
rather than after it (a standby's ack), so plain commits that arrive meanwhile still share one
flush (group commit), as they would with a real slow disk; the WAL is still written to this
machine's disk. It needs superuser (commit_delay is a superuser setting) and fsync on.

    python -m bench.ceiling                     # a fresh embedded Postgres (pgserver, PG 16)
    python -m bench.ceiling --server URL        # another server (superuser; creates a database)
    python -m bench.ceiling --delays 0,2000 --clients 16 --seconds 20
    python -m bench.ceiling --delays 0 --clients 1,8,32   # the capacity table's ceiling

On a target instance before launch (no superuser needed, no simulation: its real commit
latency), run the shipped scripts with any pgbench (docs/deployment.md, "Measure the ceiling").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import tempfile
import uuid
from pathlib import Path

import asyncpg

from db.embedded import bundled_program, start_embedded_postgres
from db.urls import asyncpg_dsn, with_database

SCRIPTS = Path(__file__).resolve().parent / "ceiling"


def pgbench(url: str, script: str, *, clients: int, seconds: int, delay_us: int) -> str:
    """pgbench's output for `script` (notify or plain) under `delay_us` of commit_delay."""
    options = f"-c commit_delay={delay_us} -c commit_siblings=0" if delay_us else ""
    result = subprocess.run(
        [
            str(bundled_program("pgbench")), "-n", "-M", "prepared", "-c", str(clients),
            "-j", str(min(2, clients)), "-T", str(seconds),
            "-f", str(SCRIPTS / f"{script}.sql"), asyncpg_dsn(url),
        ],
        env={**os.environ, "PGOPTIONS": options},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def figures(output: str) -> tuple[float, float]:
    """(tps, average latency in ms) from pgbench's output."""
    tps = re.search(r"^tps = ([\d.]+)", output, re.MULTILINE)
    latency = re.search(r"^latency average = ([\d.]+) ms", output, re.MULTILINE)
    if tps is None or latency is None:
        raise RuntimeError(f"pgbench printed no tps:\n{output}")
    return float(tps.group(1)), float(latency.group(1))


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="a Postgres URL (superuser); default: embedded")
    parser.add_argument("--delays", default="0,500,1000,2000,5000,10000", help="µs, commas")
    parser.add_argument("--clients", default="16", help="writers (pgbench clients), commas")
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    server = args.server
    if server is None:
        data_dir = Path(tempfile.mkdtemp(prefix="vividly-ceiling-")) / "data"
        server = start_embedded_postgres(data_dir, delete_on_exit=True)
    name = f"vividly_ceiling_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = with_database(server, name)
    try:
        subprocess.run(
            [str(bundled_program("psql")), "-q", "-v", "ON_ERROR_STOP=1",
             "-f", str(SCRIPTS / "setup.sql"), asyncpg_dsn(url)],
            check=True, capture_output=True,
        )  # fmt: skip
        print(f"seconds={args.seconds} (pgbench -M prepared -j min(2, clients))")
        print(
            "clients | commit_delay µs | plain tps | plain ms | notify tps | notify ms"
            " | 1/(delay) per s"
        )
        for clients in (int(part) for part in args.clients.split(",")):
            for delay in (int(part) for part in args.delays.split(",")):
                plain = figures(
                    pgbench(url, "plain", clients=clients, seconds=args.seconds, delay_us=delay)
                )
                notify = figures(
                    pgbench(url, "notify", clients=clients, seconds=args.seconds, delay_us=delay)
                )
                bound = f"{1e6 / delay:,.0f}" if delay else "-"
                print(
                    f"{clients:>7} | {delay:>15,} | {plain[0]:>9,.0f} | {plain[1]:>8.2f} |"
                    f" {notify[0]:>10,.0f} | {notify[1]:>9.2f} | {bound}",
                    flush=True,
                )
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
