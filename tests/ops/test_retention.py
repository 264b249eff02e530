"""Retention: old read or archived rows go, unread rows stay, stale cursors get `reset`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from service.ops import retention
from service.requests import media
from tests.support.server import complete, open_stream, running_server, settings_for
from tests.support.waiting import until


async def test_prune_command_deletes_old_read_rows_and_resets_stale_cursors(
    database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    for _ in range(4):
        await complete(conn, user)
    oldest, old_dismissed, old_unread, recent_read = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user
        )
    ]
    await conn.execute(
        "UPDATE notifications SET created_at = now() - interval '100 days' WHERE id = ANY($1)",
        [oldest, old_dismissed, old_unread],
    )
    await conn.execute(
        "UPDATE notifications SET read_at = now() WHERE id = ANY($1)", [oldest, recent_read]
    )
    await conn.execute("UPDATE notifications SET dismissed_at = now() WHERE id = $1", old_dismissed)

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "service", "prune", "--days", "90"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "deleted 2 notifications" in result.stdout
    remaining = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user
        )
    ]
    assert remaining == [old_unread, recent_read]
    watermark = await conn.fetchval(
        "SELECT pruned_through_id FROM notification_retention WHERE user_id = $1", user
    )
    assert watermark == old_dismissed

    async with (
        running_server(settings_for(database_url)) as server,
        open_stream(server.base_url, server.token(user), last_event_id=oldest - 1) as stale,
    ):
        await stale.next_data()
        reset = await stale.next()
        assert reset.event == "reset"
    async with (
        running_server(settings_for(database_url)) as server,
        open_stream(server.base_url, server.token(user), last_event_id=old_dismissed) as fresh,
    ):
        assert [n["id"] for n in await fresh.notifications(2)] == [old_unread, recent_read]


def test_prune_rejects_a_bad_number_of_days() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "prune", "--days", "-3"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "--days" in result.stderr


async def test_serve_prunes_periodically_when_retention_days_is_set(
    database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    await complete(conn, user)
    old, recent = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user
        )
    ]
    await conn.execute(
        "UPDATE notifications SET read_at = now(), created_at = now() - interval '10 days'"
        " WHERE id = $1",
        old,
    )
    settings = settings_for(database_url, retention_days=7, retention_interval_seconds=0.2)

    async def pruned() -> bool:
        gone: bool = await conn.fetchval(
            "SELECT NOT EXISTS (SELECT 1 FROM notifications WHERE id = $1)", old
        )
        return gone

    async with running_server(settings):
        await until(pruned, f"the periodic retention deletes notification {old}", timeout=10)
    remaining = await conn.fetch("SELECT id FROM notifications WHERE user_id = $1", user)
    assert [r["id"] for r in remaining] == [recent]


async def test_prune_deletes_old_finished_requests_and_their_media(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    user = uuid.uuid4()
    old_read, old_unread, recent = [await complete(conn, user) for _ in range(3)]
    for request_id in (old_read, old_unread, recent):
        await write_media(tmp_path, request_id)
    async with conn.transaction():  # past the trigger that keeps updated_at current
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(
            "UPDATE content_requests SET updated_at = now() - interval '100 days'"
            " WHERE id = ANY($1)",
            [old_read, old_unread],
        )
    await conn.execute(
        "UPDATE notifications SET created_at = now() - interval '100 days', read_at = now()"
        " WHERE content_request_id = $1",
        old_read,
    )
    await retention.prune(conn, days=90, media_dir=tmp_path, delete_media=media.delete)

    remaining = await conn.fetch(
        "SELECT id FROM content_requests WHERE id = ANY($1)", [old_read, old_unread, recent]
    )
    assert {row["id"] for row in remaining} == {old_unread, recent}
    assert not list(tmp_path.rglob(f"{old_read}*"))
    # An unread notification keeps its video playable; a recent request keeps its own.
    for kept in (old_unread, recent):
        assert len(list(tmp_path.rglob(f"{kept}*"))) == 3


async def write_media(media_dir: Path, request_id: uuid.UUID) -> None:
    """What the simulated pipeline leaves for a request: two video versions and a thumbnail."""
    (media_dir / "videos").mkdir(exist_ok=True)
    (media_dir / "thumbnails").mkdir(exist_ok=True)
    for version in (1, 2):
        (media_dir / "videos" / f"{request_id}-{version}.webm").write_bytes(b"v")
    (media_dir / "thumbnails" / f"{request_id}.png").write_bytes(b"\x89PNG")


async def test_prune_deletes_old_ended_digests_that_own_no_notification(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    user = uuid.uuid4()

    async def notification(*, read: bool) -> int:
        id_: int = await conn.fetchval(
            "INSERT INTO notifications (user_id, type, payload, created_at, read_at)"
            " VALUES ($1, 'video_complete', '{}', now() - interval '100 days', $2) RETURNING id",
            user,
            datetime.now(UTC) if read else None,
        )
        return id_

    async def digest(state: str, days: int, owns: int | None = None) -> int:
        sent = state == "sent"
        id_: int = await conn.fetchval(
            "INSERT INTO email_digests (user_id, state, created_at, sent_at, smtp_reply)"
            " VALUES ($1, $2, now() - make_interval(days => $3), $4, $5) RETURNING id",
            user,
            state,
            days,
            datetime.now(UTC) if sent else None,
            "250 ok" if sent else None,
        )
        if owns is not None:
            await conn.execute(
                "INSERT INTO email_digest_items (notification_id, digest_id) VALUES ($1, $2)",
                owns,
                id_,
            )
        return id_

    old_failed = await digest("failed", 100)
    recent_failed = await digest("failed", 10)
    sent_unread = await digest("sent", 100, owns=await notification(read=False))
    sent_read = await digest("sent", 100, owns=await notification(read=True))
    await retention.prune(conn, days=90, media_dir=tmp_path, delete_media=media.delete)
    remaining = await conn.fetch("SELECT id FROM email_digests WHERE user_id = $1", user)
    # The read notification went first (in the same run), then its digest; the unread one's
    # digest stays, so it is never mailed again.
    assert {row["id"] for row in remaining} == {recent_failed, sent_unread}
    assert {old_failed, sent_read}.isdisjoint(row["id"] for row in remaining)


async def old_read_notifications(conn: asyncpg.Connection, user: uuid.UUID, count: int) -> None:
    """`count` read notifications of `user`, 100 days old."""
    await conn.execute(
        "INSERT INTO notifications (user_id, type, payload, created_at, read_at)"
        " SELECT $1, 'video_complete', '{}', now() - interval '100 days', now()"
        " FROM generate_series(1, $2)",
        user,
        count,
    )


async def test_a_large_backlog_is_deleted_in_bounded_transactions(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    users = [uuid.uuid4() for _ in range(3)]
    for user in users:
        await old_read_notifications(conn, user, 850)
    newest_of = {
        user: await conn.fetchval("SELECT max(id) FROM notifications WHERE user_id = $1", user)
        for user in users
    }
    # Every DELETE on notifications, as its transaction saw it.
    await conn.execute(
        """
        CREATE TABLE deletes_seen (xid bigint, deleted bigint);
        CREATE FUNCTION record_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO deletes_seen SELECT txid_current(), count(*) FROM gone;
            RETURN NULL;
        END $$;
        CREATE TRIGGER record_deletes AFTER DELETE ON notifications
            REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION record_deletes();
        """
    )
    try:
        deleted = await retention.prune(
            conn, days=90, media_dir=tmp_path, delete_media=media.delete, batch_size=1000
        )
        per_transaction = await conn.fetch(
            "SELECT sum(deleted) AS n FROM deletes_seen GROUP BY xid HAVING sum(deleted) > 0"
        )
    finally:
        await conn.execute(
            "DROP TRIGGER record_deletes ON notifications; DROP FUNCTION record_deletes();"
            " DROP TABLE deletes_seen;"
        )
    assert deleted == 2550
    sizes = sorted(row["n"] for row in per_transaction)
    assert sum(sizes) == 2550
    assert len(sizes) >= 3
    assert max(sizes) <= 1000
    left = await conn.fetchval("SELECT count(*) FROM notifications WHERE user_id = ANY($1)", users)
    assert left == 0
    for user, newest in newest_of.items():  # each user's watermark: their newest deleted id
        assert newest == await conn.fetchval(
            "SELECT pruned_through_id FROM notification_retention WHERE user_id = $1", user
        )


async def test_only_one_replica_runs_retention_at_a_time(
    database_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    user = uuid.uuid4()
    await old_read_notifications(conn, user, 30)
    await conn.execute(
        "INSERT INTO notification_retention (user_id, pruned_through_id) VALUES ($1, 0)", user
    )
    first_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    second_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    blocker = await asyncpg.connect(database_url)
    try:
        # The first replica's run is held inside its first batch (on the user's watermark row).
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute(
            "SELECT 1 FROM notification_retention WHERE user_id = $1 FOR UPDATE", user
        )
        first = asyncio.create_task(
            retention.prune(
                first_pool, days=90, media_dir=tmp_path, delete_media=media.delete, batch_size=10
            )
        )

        async def first_waits() -> bool:
            await conn.execute("SELECT pg_stat_clear_snapshot()")
            return bool(
                await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM notifications%'"
                )
            )

        await until(first_waits, "the first run is inside its first batch", timeout=10)
        # The second replica's run meanwhile: it neither waits nor deletes.
        second = await asyncio.wait_for(
            retention.prune(
                second_pool, days=90, media_dir=tmp_path, delete_media=media.delete, batch_size=10
            ),
            5,
        )
        assert second is None
        assert not first.done()
        await hold.rollback()
        assert await asyncio.wait_for(first, 30) == 30
    finally:
        await blocker.close()
        await first_pool.close()
        await second_pool.close()
