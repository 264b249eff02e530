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
    (media_dir / "thumbnails" / f"{request_id}.svg").write_text("<svg/>")


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
