"""How many updates of `notifications` are HOT (heap-only: no new index entries), by fillfactor.

Every notification is updated a few times after its insert: delivered (MARK_DELIVERED, ~0.5 s
later, by the stream recorder), later seen (MARK_SEEN), later read (MARK_READ). An update is HOT
(no new index entries) only when the indexes allow it and the new version fits on the same page.
Rows are inserted in time order, so with the default fillfactor (100) their page is full soon
after; a lower fillfactor leaves room on each page.

For each fillfactor, a scratch database migrated to head gets the same simulated traffic: each
tick inserts BATCH notifications, marks the previous tick's delivered, the ones of SEEN_LAG ticks
ago half seen, and the ones of READ_LAG ticks ago a third read. Counts come from
pg_stat_xact_user_tables inside each statement's transaction.

    python -m bench.hot_ratio [SERVER_URL] [TICKS]

Results (Postgres 15, 100 ticks of 500): bench/RESULTS.md, "HOT updates".
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime

import asyncpg

from db import migrate
from db.urls import asyncpg_dsn, with_database
from service.notifications import sql as notifications_sql

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
FILLFACTORS = (100, 90, 85, 75)
BATCH = 500
SEEN_LAG = 20
READ_LAG = 60

INSERT = """
INSERT INTO notifications (user_id, type, payload)
SELECT u, 'video_complete', p FROM unnest($1::uuid[], $2::jsonb[]) AS t (u, p) RETURNING id
"""
COUNTS = """
SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'notifications'
"""


def payload() -> str:
    content = uuid.uuid4()
    return json.dumps(
        {
            "content_id": str(content),
            "title": "Photosynthesis and the light reactions",
            "video_url": f"/media/{content}.webm",
            "thumbnail_url": f"/media/{content}.png",
            "duration_seconds": 30,
        }
    )


async def counted(
    conn: asyncpg.Connection, totals: Counter[str], name: str, sql: str, *args: object
) -> None:
    async with conn.transaction():
        await conn.execute(sql, *args)
        row = await conn.fetchrow(COUNTS)
        totals[f"{name}_updates"] += row["n_tup_upd"]
        totals[f"{name}_hot"] += row["n_tup_hot_upd"]


async def traffic(url: str, fillfactor: int, ticks: int) -> Counter[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    totals: Counter[str] = Counter()
    try:
        await conn.execute(f"ALTER TABLE notifications SET (fillfactor = {fillfactor})")
        batches: list[list[tuple[int, uuid.UUID]]] = []
        for tick in range(ticks + READ_LAG):
            if tick < ticks:
                users = [uuid.uuid4() for _ in range(BATCH)]
                rows = await conn.fetch(INSERT, users, [payload() for _ in users])
                batches.append([(row["id"], user) for row, user in zip(rows, users, strict=True)])
            if 1 <= tick <= ticks:
                ids = [id_ for id_, _user in batches[tick - 1]]
                now = [datetime.now(UTC)] * len(ids)
                await counted(
                    conn, totals, "delivered", notifications_sql.MARK_DELIVERED, ids, now, "stream"
                )
            if SEEN_LAG <= tick < ticks + SEEN_LAG:
                for id_, user in batches[tick - SEEN_LAG][::2]:
                    await counted(conn, totals, "seen", notifications_sql.MARK_SEEN, user, [id_])
            if READ_LAG <= tick < ticks + READ_LAG:
                for id_, user in batches[tick - READ_LAG][::3]:
                    await counted(conn, totals, "read", notifications_sql.MARK_READ, id_, user)
        totals["pages"] = await conn.fetchval("SELECT pg_relation_size('notifications') / 8192")
        totals["index_pages"] = await conn.fetchval(
            "SELECT pg_indexes_size('notifications') / 8192"
        )
    finally:
        await conn.close()
    return totals


async def admin(server: str, statement: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def measure(server: str, fillfactor: int, ticks: int) -> Counter[str]:
    name = f"vividly_hot_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(server, f'CREATE DATABASE "{name}"'))
    try:
        url = with_database(server, name)
        migrate.upgrade(url)
        return asyncio.run(traffic(url, fillfactor, ticks))
    finally:
        asyncio.run(admin(server, f'DROP DATABASE "{name}" WITH (FORCE)'))


def main() -> None:
    server = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SERVER
    ticks = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    print(f"{ticks} ticks of {BATCH} notifications; HOT share of each kind of update")
    print("fillfactor  delivered  seen    read    heap pages  index pages")
    for fillfactor in FILLFACTORS:
        t = measure(server, fillfactor, ticks)
        share = {
            kind: t[f"{kind}_hot"] / t[f"{kind}_updates"] if t[f"{kind}_updates"] else 0.0
            for kind in ("delivered", "seen", "read")
        }
        print(
            f"{fillfactor:>10}  {share['delivered']:>9.1%}  {share['seen']:>6.1%}  "
            f"{share['read']:>6.1%}  {t['pages']:>10}  {t['index_pages']:>11}"
        )


if __name__ == "__main__":
    main()
