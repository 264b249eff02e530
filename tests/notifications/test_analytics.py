"""`GET /api/v1/admin/analytics`: hand-computed numbers on a known dataset, who may read it,
bad windows, whole-hour windows and small groups suppressed, the timeout and the one-at-a-time
gate, and the plan on a large table (the BRIN index of `created_at`)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from db.pool import connect
from service.http.auth import mint_token
from service.notifications import sql as notifications_sql
from service.settings import Settings
from tests.support.locks import backend_pid, until_blocked
from tests.support.server import SECRET, RunningServer, running_server, settings_for

PATH = "/api/v1/admin/analytics"
DAY = datetime(2020, 1, 1, tzinfo=UTC)
WINDOW = {"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}

# (type, delivered after seconds, channel, seen, opened); created an hour apart from DAY.
DATASET = [
    ("video_complete", 1, "stream", True, True),
    ("video_complete", 2, "stream", True, False),
    ("video_complete", 3, "stream", False, False),
    ("video_complete", 10, "push", True, True),
    ("video_complete", None, None, True, False),  # seen in history, never delivered
    ("video_complete", None, None, False, False),
    ("video_failed", 100, "email", False, False),
    ("video_failed", None, None, False, False),
]


TIMEOUT = 3.0


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    # Groups of one shown, so the numbers of the small dataset can be checked.
    return settings_for(database_url, analytics_min_group=1, analytics_timeout_seconds=TIMEOUT)


@pytest.fixture(scope="module")
async def dataset(database_url: str) -> None:
    connection = await connect(database_url)
    try:
        user = uuid.uuid4()
        rows = []
        for hour, (type_, after, channel, seen, opened) in enumerate(DATASET):
            created = DAY + timedelta(hours=hour)
            delivered = None if after is None else created + timedelta(seconds=after)
            later = created + timedelta(minutes=5)
            rows.append(
                (
                    type_,
                    created,
                    delivered,
                    channel,
                    later if seen else None,
                    later if opened else None,
                )
            )
        # Just outside the window on both sides.
        rows.append(("video_complete", DAY - timedelta(microseconds=1), DAY, "stream", None, None))
        rows.append(("video_complete", DAY + timedelta(days=1), None, None, None, None))
        await connection.executemany(
            "INSERT INTO notifications (user_id, type, payload, created_at, delivered_at,"
            " delivered_via, seen_at, opened_at) VALUES ($1, $2, '{}', $3, $4, $5, $6, $7)",
            [(user, *row) for row in rows],
        )
    finally:
        await connection.close()


def admin_token(server: RunningServer, claims: dict[str, Any] | None = None) -> str:
    if claims is None:
        return mint_token(uuid.uuid4(), server.settings, roles=["teacher", "admin"])
    now = datetime.now(UTC)
    body = {"sub": str(uuid.uuid4()), "iat": now, "exp": now + timedelta(minutes=5), **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


async def get(server: RunningServer, token: str | None, **params: str) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        return await http.get(PATH, params=params, headers=headers)


def reach(created: int, delivered: int, rate: float | None, p50: float | None,
          p95: float | None, seen: int, seen_rate: float | None, opened: int,
          ctr: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "suppressed": False,
        "created": created,
        "delivered": delivered,
        "delivery_rate": rate,
        "time_to_deliver_p50_seconds": p50,
        "time_to_deliver_p95_seconds": p95,
        "seen": seen,
        "seen_rate": seen_rate,
        "opened": opened,
        "click_through": ctr,
    }


async def test_the_numbers_of_a_known_dataset(server: RunningServer, dataset: None) -> None:
    response = await get(server, admin_token(server), **WINDOW)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"] == "2020-01-01T00:00:00Z"
    assert body["to"] == "2020-01-02T00:00:00Z"
    # Delivery times 1, 2, 3, 10, 100 s; percentile_cont interpolates: p95 of five is
    # 10 + 0.8 * 90 = 82; of [1, 2, 3, 10] 3 + 0.85 * 7 = 8.95; of [1, 2, 3] 2 + 0.9 = 2.9.
    assert body["total"] == reach(8, 5, 0.625, 3, 82, 4, 0.5, 2, 0.4)
    complete, failed = body["types"]
    assert complete["type"] == "video_complete"
    assert {k: v for k, v in complete.items() if k not in ("type", "label", "channels")} == reach(
        6, 4, 0.6667, 2.5, 8.95, 4, 0.6667, 2, 0.5
    )
    assert complete["channels"] == [
        {"channel": "none", **reach(2, 0, 0, None, None, 1, 0.5, 0, None)},
        {"channel": "push", **reach(1, 1, 0.1667, 10, 10, 1, 1, 1, 1)},
        {"channel": "stream", **reach(3, 3, 0.5, 2, 2.9, 2, 0.6667, 1, 0.3333)},
    ]
    assert failed["type"] == "video_failed"
    assert {k: v for k, v in failed.items() if k not in ("type", "label", "channels")} == reach(
        2, 1, 0.5, 100, 100, 0, 0, 0, 0
    )
    assert failed["channels"] == [
        {"channel": "email", **reach(1, 1, 0.5, 100, 100, 0, 0, 0, 0)},
        {"channel": "none", **reach(1, 0, 0, None, None, 0, 0, 0, None)},
    ]
    # The registry's labels name the types.
    assert (complete["label"], failed["label"]) == (
        "Your video is ready",
        "We couldn't make your video",
    )


async def test_the_window_over_time_every_hour_of_a_day_every_day_of_a_week(
    server: RunningServer, dataset: None
) -> None:
    response = await get(server, admin_token(server), **WINDOW)
    series = response.json()["series"]
    assert series["bucket"] == "hour"
    points = series["points"]
    assert [point["at"] for point in points] == [
        f"2020-01-01T{hour:02}:00:00Z" for hour in range(24)
    ]
    numbers = [(p["created"], p["delivered"], p["seen"], p["opened"]) for p in points]
    # One notification an hour (DATASET's order), then none.
    assert numbers[:8] == [(1, 1, 1, 1), (1, 1, 1, 0), (1, 1, 0, 0), (1, 1, 1, 1),
                           (1, 0, 1, 0), (1, 0, 0, 0), (1, 1, 0, 0), (1, 0, 0, 0)]  # fmt: skip
    assert numbers[8:] == [(0, 0, 0, 0)] * 16
    assert not any(point["suppressed"] for point in points)

    week = await get(server, admin_token(server), **{"from": "2019-12-29T00:00:00Z",
                                                      "to": "2020-01-05T00:00:00Z"})  # fmt: skip
    series = week.json()["series"]
    assert series["bucket"] == "day"
    assert [(p["at"][:10], p["created"]) for p in series["points"]] == [
        ("2019-12-29", 0), ("2019-12-30", 0), ("2019-12-31", 1), ("2020-01-01", 8),
        ("2020-01-02", 1), ("2020-01-03", 0), ("2020-01-04", 0),
    ]  # fmt: skip


async def test_the_window_is_whole_hours(server: RunningServer, dataset: None) -> None:
    # One microsecond around the third notification (created at 02:00) is the hour 02:00-03:00.
    params = {"from": "2020-01-01T02:00:00Z", "to": "2020-01-01T02:00:00.000001Z"}
    response = await get(server, admin_token(server), **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"]) == ("2020-01-01T02:00:00Z", "2020-01-01T03:00:00Z")
    params = {"from": "2020-01-01T01:59:59Z", "to": "2020-01-01T03:00:01Z"}
    body = (await get(server, admin_token(server), **params)).json()
    assert (body["from"], body["to"]) == ("2020-01-01T01:00:00Z", "2020-01-01T04:00:00Z")
    assert body["total"]["created"] == 3


async def test_the_window_is_taken_and_answered_in_utc(
    server: RunningServer, dataset: None
) -> None:
    # +00:01 once shifted the rounding by a minute and was echoed back.
    params = {"from": "2020-01-01T02:30:00+00:01", "to": "2020-01-01T03:30:00+00:01"}
    body = (await get(server, admin_token(server), **params)).json()
    assert (body["from"], body["to"]) == ("2020-01-01T02:00:00Z", "2020-01-01T04:00:00Z")
    params = {"from": "2020-01-01T05:00:00+05:30", "to": "2020-01-01T06:00:00+05:30"}
    body = (await get(server, admin_token(server), **params)).json()
    assert (body["from"], body["to"]) == ("2019-12-31T23:00:00Z", "2020-01-01T01:00:00Z")


async def test_small_groups_are_suppressed(database_url: str, dataset: None) -> None:
    async with running_server(settings_for(database_url, analytics_min_group=2)) as server:
        body = (await get(server, admin_token(server), **WINDOW)).json()
    hidden = dict.fromkeys(reach(0, 0, None, None, None, 0, None, 0, None), None)
    hidden["suppressed"] = True
    assert body["total"]["suppressed"] is False
    assert body["total"]["created"] == 8
    complete, failed = body["types"]
    assert (complete["created"], failed["created"]) == (6, 2)  # neither below 2
    # push (1) is below 2; none (2) goes too, or push would be 6 - 2 - 3.
    assert [c["channel"] for c in complete["channels"]] == ["none", "push", "stream"]
    none, push, stream = complete["channels"]
    assert {k: v for k, v in none.items() if k != "channel"} == hidden
    assert {k: v for k, v in push.items() if k != "channel"} == hidden
    assert stream["suppressed"] is False
    assert stream["created"] == 3
    assert [c["suppressed"] for c in failed["channels"]] == [True, True]
    # Hours of one notification show no numbers; empty hours isolate no one.
    points = body["series"]["points"]
    assert [p["suppressed"] for p in points] == [True] * 8 + [False] * 16
    assert all(p["created"] is None for p in points[:8])
    async with running_server(settings_for(database_url, analytics_min_group=3)) as server:
        body = (await get(server, admin_token(server), **WINDOW)).json()
    # video_failed (2) is below 3; video_complete goes too (it would be 8 - 2), with its
    # channels (they would add up to it).
    assert body["total"]["created"] == 8
    assert [t["suppressed"] for t in body["types"]] == [True, True]
    assert all(c["suppressed"] for t in body["types"] for c in t["channels"])
    assert all(t["created"] is None for t in body["types"])


async def test_a_slow_query_is_cancelled_and_one_runs_at_a_time(
    server: RunningServer, conn: asyncpg.Connection, dataset: None
) -> None:
    token = admin_token(server)
    holder = await backend_pid(conn)
    async with conn.transaction():
        await conn.execute("LOCK TABLE notifications IN ACCESS EXCLUSIVE MODE")  # blocks reads
        slow = asyncio.create_task(get(server, token, **WINDOW))
        await until_blocked(conn, "the slow query waits for the table lock", behind=holder)
        busy = await get(server, token, **WINDOW)  # waits a second for the slow one, then 429
        cancelled = await slow
    assert busy.status_code == 429, busy.text
    assert busy.json() == {"detail": "another analytics query is running; retry shortly"}
    assert busy.headers["retry-after"] == "5"
    assert cancelled.status_code == 503, cancelled.text
    assert cancelled.json() == {
        "detail": f"the analytics query took longer than {TIMEOUT:g} s and was cancelled;"
        " try a shorter window"
    }
    again = await get(server, token, **WINDOW)
    assert again.status_code == 200, again.text


async def test_an_empty_window_is_all_zero(server: RunningServer, dataset: None) -> None:
    response = await get(server, admin_token(server), **{"from": "2001-01-01", "to": "2001-01-02"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["types"] == []
    assert body["total"] == reach(0, 0, None, None, None, 0, None, 0, None)


async def test_a_role_claim_works_too(server: RunningServer, dataset: None) -> None:
    response = await get(server, admin_token(server, {"role": "admin"}), **WINDOW)
    assert response.status_code == 200
    assert response.json()["total"]["created"] == 8


@pytest.mark.parametrize(
    "claims",
    [{}, {"roles": ["student"]}, {"role": "student"}, {"roles": "admin"}, {"roles": [["admin"]]}],
)
async def test_a_token_without_the_admin_role_is_a_403(
    server: RunningServer, claims: dict[str, Any]
) -> None:
    response = await get(server, admin_token(server, claims), **WINDOW)
    assert response.status_code == 403
    assert response.json() == {"detail": "this needs the 'admin' role"}


async def test_no_token_is_a_401(server: RunningServer) -> None:
    response = await get(server, None, **WINDOW)
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2020-01-02T00:00:00Z", "to": "2020-01-01T00:00:00Z"},  # backwards
        {"from": "2020-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z"},  # empty
        {"from": "2020-01-01T00:00:00Z", "to": "2020-04-01T00:00:01Z"},  # 91 days
        {"from": "yesterday"},
        {"to": "2020-13-01"},
        {"to": "0001-01-01T00:00:00Z"},  # the default window would start before year 1
        {"from": "2020-01-01T00:00:00Z"},  # to defaults to now: far more than 90 days
        # The calendar's edges: rounding up to the hour, or to UTC, leaves it (was a 500).
        {"from": "9999-12-31T22:00:00Z", "to": "9999-12-31T23:30:00Z"},
        {"to": "9999-12-31T23:30:00Z"},
        {"from": "0001-01-01T00:00:00+01:00", "to": "0001-01-01T05:00:00+01:00"},
        {"from": "0001-01-01T00:30:00Z", "to": "0001-01-01T02:00:00Z"},
        {"from": "9999-12-31T20:00:00-05:00", "to": "9999-12-31T21:00:00-05:00"},
        {"from": "1969-12-31T00:00:00Z", "to": "1969-12-31T02:00:00Z"},
    ],
)
async def test_bad_windows_are_a_422(server: RunningServer, params: dict[str, str]) -> None:
    response = await get(server, admin_token(server), **params)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


async def test_a_window_of_a_large_table_reads_the_brin_index(database_url: str) -> None:
    connection = await connect(database_url)
    try:
        await connection.execute(
            """
            INSERT INTO notifications (user_id, type, payload, created_at, delivered_at,
                                       delivered_via)
            SELECT gen_random_uuid(), 'video_complete', '{"title": "A video"}',
                   timestamptz '2018-01-01' + i * interval '1 minute',
                   timestamptz '2018-01-01' + i * interval '1 minute' + interval '2 seconds',
                   'stream'
            FROM generate_series(1, 300000) AS i
            """
        )
        await connection.execute("VACUUM ANALYZE notifications")  # summarises the BRIN ranges
        start = datetime(2018, 3, 1, tzinfo=UTC)
        rows = await connection.fetch(
            "EXPLAIN (ANALYZE, BUFFERS) " + notifications_sql.DELIVERY_ANALYTICS,
            start,
            start + timedelta(days=7),
            timedelta(days=1),
        )
        total_pages = await connection.fetchval(
            "SELECT relpages FROM pg_class WHERE relname = 'notifications'"
        )
    finally:
        await connection.close()
    plan = "\n".join(row[0] for row in rows)
    assert "notifications_created_brin" in plan, plan
    read = sum(int(part) for part in _heap_blocks(plan))
    assert 0 < read < total_pages / 10, plan  # a week of a year's pages, not all of them


def _heap_blocks(plan: str) -> list[str]:
    # "Heap Blocks: exact=12 lossy=340"
    found: list[str] = []
    for line in plan.splitlines():
        if "Heap Blocks:" in line:
            found += [part.split("=")[1] for part in line.split(":")[1].split()]
    return found
