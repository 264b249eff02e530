"""`db/schema.sql` is what the migrations build, and 0005 downgrades to exactly what 0004 built.

On failure, regenerate the snapshot with `.venv/bin/python -m db.snapshot` and review its diff.
"""

from __future__ import annotations

import asyncio
import difflib

import asyncpg

from db import migrate, snapshot
from db.urls import asyncpg_dsn

REGISTRY = "SELECT name, description FROM notification_types ORDER BY name"


def registry(url: str) -> list[tuple[str, str]]:
    async def fetch() -> list[tuple[str, str]]:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return [tuple(row) for row in await connection.fetch(REGISTRY)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def test_the_committed_snapshot_is_what_the_migrations_build(database_url: str) -> None:
    built = snapshot.dump_schema(database_url)
    committed = snapshot.committed()
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            built.splitlines(keepends=True),
            "db/schema.sql",
            "migrated",
        )
    )
    assert built == committed, (
        "db/schema.sql and the migrations differ; run `.venv/bin/python -m db.snapshot`:\n" + diff
    )


def test_normalising_keeps_what_the_migrations_decide() -> None:
    dump = (
        "--\n-- PostgreSQL database dump\n--\nSET lock_timeout = 0;\n"
        "SELECT pg_catalog.set_config('search_path', '', false);\n\\restrict abc\n\n\n\n"
        "CREATE TABLE public.t (\n    a integer\n);\n"
        "ALTER TABLE ONLY public.t ALTER COLUMN a SET (pg_attver=123);\n"
        "ALTER TABLE ONLY public.t ALTER COLUMN a SET (n_distinct=5);\n"
    )
    assert snapshot.normalise(dump) == (
        "CREATE TABLE public.t (\n    a integer\n);\n"
        "ALTER TABLE ONLY public.t ALTER COLUMN a SET (n_distinct=5);\n"
    )


def test_downgrading_0005_restores_what_0004_built(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.upgrade(url, "0004")
    schema, types = snapshot.dump_schema(url), registry(url)
    migrate.upgrade(url, "0005")
    assert snapshot.dump_schema(url) != schema
    assert registry(url) != types
    migrate.downgrade(url, "0004")
    assert snapshot.dump_schema(url) == schema
    assert registry(url) == types
