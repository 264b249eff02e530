"""Copy experiments in the database (migration 0019): a student's variant is stable and about
half go each way, each notification records the variant it was made with and carries that
variant's copy (whatever inserts it: here the content-request trigger), placeholders are filled
once and cut, and a winner becomes the type's default copy. Real Postgres, committed writes."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from service.notifications.experiments import store
from tests.support.server import complete

COPY_A = store.Copy("{title} is ready", "Watch {title} now.")
COPY_B = store.Copy("Your video is here", "Tap to play.")


@pytest.fixture
async def pool(database_url: str) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    yield pool
    await pool.execute(
        "UPDATE copy_experiments SET stopped_at = now() WHERE stopped_at IS NULL;"
        " UPDATE notification_types SET copy_heading = NULL, copy_body = NULL"
    )
    await pool.close()


async def test_a_students_variant_is_stable_and_about_half_go_each_way(
    conn: asyncpg.Connection,
) -> None:
    users = [uuid.uuid4() for _ in range(4000)]
    first = await conn.fetch(
        "SELECT vividly_copy_variant_v1(u, 1) AS v FROM unnest($1::uuid[]) AS u", users
    )
    again = await conn.fetch(
        "SELECT vividly_copy_variant_v1(u, 1) AS v FROM unnest($1::uuid[]) AS u", users
    )
    other = await conn.fetch(
        "SELECT vividly_copy_variant_v1(u, 2) AS v FROM unnest($1::uuid[]) AS u", users
    )
    variants = [row["v"] for row in first]
    assert variants == [row["v"] for row in again]
    assert set(variants) == {"a", "b"}
    assert 0.46 < variants.count("a") / len(variants) < 0.54
    # Another experiment splits the students independently (not the same halves every time).
    moved = sum(a != b["v"] for a, b in zip(variants, other, strict=True))
    assert 0.4 < moved / len(variants) < 0.6


async def test_each_notification_records_its_variant_and_carries_its_copy(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    experiment = await store.create(pool, "video_complete", COPY_A, COPY_B)
    students = [uuid.uuid4() for _ in range(40)]
    for student in students:
        await complete(conn, student, title="Tides")
        await complete(conn, student, title="Waves")
    rows = await conn.fetch(
        "SELECT user_id, copy_experiment_id, copy_variant, payload,"
        " vividly_copy_variant_v1(user_id, copy_experiment_id) AS assigned"
        " FROM notifications WHERE user_id = ANY($1::uuid[]) ORDER BY id",
        students,
    )
    assert len(rows) == 80
    for row in rows:
        assert row["copy_experiment_id"] == experiment["id"]
        assert row["copy_variant"] == row["assigned"]
        payload, expected = row["payload"], COPY_A if row["copy_variant"] == "a" else COPY_B
        name = payload["title"]
        assert payload["copy_heading"] == expected.heading.replace("{title}", name)
        assert payload["copy_body"] == expected.body.replace("{title}", name)
        assert name in ("Tides", "Waves")  # the payload's own text stays
    per_student = {(row["user_id"], row["copy_variant"]) for row in rows}
    assert len(per_student) == 40  # both of a student's notifications: one variant
    assert {variant for _, variant in per_student} == {"a", "b"}
    # Another type is not in the experiment.
    other = uuid.uuid4()
    await conn.execute(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', 'q', 'Tides', 'No.')",
        other,
    )
    failed = await conn.fetchrow("SELECT * FROM notifications WHERE user_id = $1", other)
    assert (failed["copy_experiment_id"], failed["copy_variant"]) == (None, None)
    assert "copy_heading" not in failed["payload"]


async def test_placeholders_are_filled_once_stripped_and_cut(conn: asyncpg.Connection) -> None:
    async def render(template: str, payload: dict[str, object]) -> str:
        value: str = await conn.fetchval("SELECT vividly_render_copy_v1($1, $2::jsonb)", template,
                                         payload)  # fmt: skip
        return value

    # A value that contains a placeholder stays as it is (one pass).
    assert await render("{title}: {question}", {"title": "{question}", "question": "Why?"}) == (
        "{question}: Why?"
    )
    assert await render("Hi {title}!", {"title": "  <b>x</b>  "}) == "Hi <b>x</b>!"  # text
    assert await render("Hi {title}!", {"title": 7}) == "Hi !"
    assert await render("{nothing} {title", {"title": "x"}) == "{nothing} {title"
    long = await render("{title}", {"title": "x" * 500})
    assert long == "x" * 199 + "…"


async def test_stopping_returns_to_the_default_and_a_winner_becomes_it(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    experiment = await store.create(pool, "video_complete", COPY_A, COPY_B)
    with pytest.raises(store.AlreadyRunning) as running:
        await store.create(pool, "video_complete", COPY_B, COPY_A)
    assert running.value.experiment_id == experiment["id"]
    with pytest.raises(store.UnknownType):
        await store.create(pool, "no_such_type", COPY_A, COPY_B)

    await store.stop(pool, experiment["id"])
    student = uuid.uuid4()
    await complete(conn, student, title="Tides")
    plain = await conn.fetchrow("SELECT * FROM notifications WHERE user_id = $1", student)
    assert plain["copy_experiment_id"] is None
    assert "copy_heading" not in plain["payload"]

    await store.make_winner(pool, experiment["id"], "a")
    row = await conn.fetchrow(
        "SELECT copy_heading, copy_body FROM notification_types WHERE name = 'video_complete'"
    )
    assert (row["copy_heading"], row["copy_body"]) == (COPY_A.heading, COPY_A.body)
    stopped = await conn.fetchrow("SELECT * FROM copy_experiments WHERE id = $1", experiment["id"])
    assert stopped["winner"] == "a"
    assert stopped["stopped_at"] is not None
    await complete(conn, student, title="Waves")
    made = await conn.fetchrow(
        "SELECT * FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1", student
    )
    assert made["copy_experiment_id"] is None  # the default copy, no experiment
    assert made["payload"]["copy_heading"] == "Waves is ready"
    assert made["payload"]["copy_body"] == "Watch Waves now."
    # What was made before keeps its own text.
    assert "copy_heading" not in (
        await conn.fetchval("SELECT payload FROM notifications WHERE id = $1", plain["id"])
    )
    # A new experiment of the type may start now, and wins over the default while it runs.
    again = await store.create(pool, "video_complete", COPY_B, COPY_B)
    await complete(conn, student, title="Tides")
    newest = await conn.fetchrow(
        "SELECT * FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 1", student
    )
    assert newest["copy_experiment_id"] == again["id"]
    assert newest["payload"]["copy_heading"] == "Your video is here"
    with pytest.raises(store.UnknownExperiment):
        await store.make_winner(pool, 10**12, "a")
    with pytest.raises(store.UnknownExperiment):
        await store.stop(pool, 10**12)


async def test_a_snoozed_notification_comes_back_with_the_text_it_was_made_with(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    await complete(conn, student, title="Tides")  # made with no copy
    await store.create(pool, "video_complete", COPY_A, COPY_B)  # an experiment starts after
    await conn.execute(
        "UPDATE notifications SET dismissed_at = now(), snoozed_until = now() WHERE user_id = $1",
        student,
    )
    assert await conn.fetchval("SELECT vividly_wake_snoozed_v1(10)") == 1
    back = await conn.fetchrow("SELECT * FROM notifications WHERE user_id = $1", student)
    assert back["dismissed_at"] is None
    assert "copy_heading" not in back["payload"]  # not the experiment's copy
    assert (back["copy_experiment_id"], back["copy_variant"]) == (None, None)  # not counted
    # The setting does not outlive the waker's call: the next notification gets its variant.
    await complete(conn, student, title="Waves")
    made = await conn.fetchrow(
        "SELECT copy_variant, payload FROM notifications WHERE user_id = $1 ORDER BY id DESC",
        student,
    )
    assert made["copy_variant"] in ("a", "b")
    assert "copy_heading" in made["payload"]
