"""`db/schema.sql`: the schema the migrations build, as `pg_dump --schema-only` prints it.

Regenerate it after changing a migration (a test fails until you do):

    .venv/bin/python -m db.snapshot            # scratch database on an embedded Postgres
    .venv/bin/python -m db.snapshot --server postgresql://postgres@127.0.0.1:5432/postgres

Guarantees:
- The dump is made by the pg_dump 16 that pgserver ships, whatever the server: pg_dump refuses
  servers newer than itself, and 16 reads both supported servers (15 and 16).
- `normalise` drops what depends on the server, the client or the moment rather than on the
  migrations (comment lines, `SET` lines, `\\restrict` lines of newer pg_dumps, the
  `pg_attver` column options the system PostgreSQL 15 here adds to every column, blank-line
  runs), so a snapshot made on PostgreSQL 16 matches a database migrated on 15 and vice versa.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import tempfile
import uuid
from pathlib import Path

import asyncpg

from . import migrate
from .embedded import bundled_program, start_embedded_postgres
from .urls import asyncpg_dsn, with_database

SNAPSHOT = Path(__file__).resolve().parent / "schema.sql"
HEADER = """\
-- The schema `alembic upgrade head` builds (pg_dump --schema-only, normalised by db/snapshot.py).
-- Generated: do not edit. Regenerate with `.venv/bin/python -m db.snapshot`;
-- tests/migrations/test_schema_snapshot.py fails while this file and the migrations differ.
"""
_NOISE = re.compile(
    r"^(--.*"
    r"|SET \w+ = .*;"
    r"|SELECT pg_catalog\.set_config\(.*\);"
    r"|\\(un)?restrict .*"
    # This machine's PostgreSQL 15 gives every column an attribute option of its own.
    r"|ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(pg_attver=\d+\);)$"
)


def normalise(dump: str) -> str:
    """The dump without server-, client- and time-dependent lines."""
    lines = [line.rstrip() for line in dump.splitlines() if not _NOISE.match(line.rstrip())]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip() + "\n"


def dump_schema(url: str) -> str:
    """The normalised schema of the database at `url`."""
    result = subprocess.run(
        [
            str(bundled_program("pg_dump")),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--no-tablespaces",
            "--dbname",
            asyncpg_dsn(url),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {result.stderr.strip()}")
    return normalise(result.stdout)


def committed() -> str:
    """The normalised content of `db/schema.sql`."""
    return normalise(SNAPSHOT.read_text())


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def migrated_schema(server_url: str) -> str:
    """Migrate a scratch database on `server_url` to head and return its normalised dump."""
    name = f"vividly_snapshot_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = with_database(server_url, name)
        migrate.upgrade(url)
        return dump_schema(url)
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description="Write db/schema.sql from the migrations.")
    parser.add_argument(
        "--server", help="a Postgres URL to create the scratch database on (default: embedded)"
    )
    server = parser.parse_args().server
    if server is None:
        data_dir = Path(tempfile.mkdtemp(prefix="vividly-snapshot-")) / "data"
        server = start_embedded_postgres(data_dir, delete_on_exit=True)
    SNAPSHOT.write_text(HEADER + "\n" + migrated_schema(server))
    print(f"wrote {SNAPSHOT}")


if __name__ == "__main__":
    main()
