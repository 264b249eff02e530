"""`/api/v1/admin/experiments`: who may use it, what bad input gets (422 naming the field, 404),
and the per-variant numbers with their intervals on a known dataset. Real server and Postgres."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from service.http.auth import mint_token
from service.notifications.experiments.proportions import wilson
from service.settings import Settings
from tests.support.server import RunningServer, settings_for

PATH = "/api/v1/admin/experiments"
COPY = {"heading": "{title} is ready", "body": "Watch it now."}
OTHER = {"heading": "Your video is here", "body": "Tap to play {title}."}


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(database_url, analytics_min_group=5)


def headers(server: RunningServer, roles: list[str] | None = None) -> dict[str, str]:
    token = mint_token(uuid.uuid4(), server.settings, roles=["admin"] if roles is None else roles)
    return {"Authorization": f"Bearer {token}"}


async def call(
    server: RunningServer, method: str, path: str = "", body: Any = None, roles: Any = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        # json.dumps escapes what UTF-8 cannot carry (a lone surrogate), as a browser's would.
        content = None if body is None else json.dumps(body)
        sent = {**headers(server, roles), "Content-Type": "application/json"}
        return await http.request(method, PATH + path, content=content, headers=sent)


@pytest.fixture(autouse=True)
async def nothing_running(conn: asyncpg.Connection) -> None:
    await conn.execute("UPDATE copy_experiments SET stopped_at = now() WHERE stopped_at IS NULL")


async def test_only_admins(server: RunningServer) -> None:
    assert (await call(server, "GET", roles=[])).status_code == 403
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        assert (await http.get(PATH)).status_code == 401
        assert (await http.post(PATH, json={})).status_code == 401


@pytest.mark.parametrize(
    ("body", "loc", "words"),
    [
        ({"type": "video_complete", "a": {**COPY, "heading": "  "}, "b": OTHER},
         ["body", "a", "heading"], "empty"),
        ({"type": "video_complete", "a": COPY, "b": {**OTHER, "body": "x" * 301}},
         ["body", "b", "body"], "at most 300"),
        ({"type": "video_complete", "a": {**COPY, "heading": "x" * 101}, "b": OTHER},
         ["body", "a", "heading"], "at most 100"),
        ({"type": "video_complete", "a": {**COPY, "body": "Hi {user_id}"}, "b": OTHER},
         ["body", "a", "body"], "{user_id}"),
        ({"type": "video_complete", "a": {**COPY, "body": "two\nlines"}, "b": OTHER},
         ["body", "a", "body"], "one line"),
        ({"type": "video_complete", "a": {**COPY, "heading": "x\ud800"}, "b": OTHER},
         ["body", "a", "heading"], "surrogate"),
        ({"type": "clarification_needed", "a": {**COPY, "body": "{question}"}, "b": OTHER},
         ["body", "b", "body"], "{question}"),
        ({"type": "no_such_type", "a": COPY, "b": OTHER}, ["body", "type"], "not a notification"),
        ({"type": "Bad Name", "a": COPY, "b": OTHER}, ["body", "type"], ""),
        ({"type": "video_complete", "a": COPY}, ["body", "b"], ""),
    ],
)  # fmt: skip
async def test_bad_copy_is_a_422_naming_the_field_and_starts_nothing(
    server: RunningServer, conn: asyncpg.Connection, body: Any, loc: list[str], words: str
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM copy_experiments")
    response = await call(server, "POST", body=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == loc
    assert words in error["msg"]
    assert await conn.fetchval("SELECT count(*) FROM copy_experiments") == before


async def test_one_running_per_type_then_stop_and_404s(server: RunningServer) -> None:
    created = await call(server, "POST", body={"type": "video_failed", "a": COPY, "b": OTHER})
    assert created.status_code == 201, created.text
    experiment = created.json()
    assert experiment["running"]
    assert experiment["label"] == "We couldn't make your video"
    assert [v["heading"] for v in experiment["variants"]] == ["{title} is ready", OTHER["heading"]]
    again = await call(server, "POST", body={"type": "video_failed", "a": OTHER, "b": COPY})
    assert again.status_code == 422
    [error] = again.json()["detail"]
    assert error["loc"] == ["body", "type"]
    assert "still running" in error["msg"]

    stopped = await call(server, "POST", f"/{experiment['id']}/stop")
    assert stopped.status_code == 200
    assert stopped.json()["running"] is False
    assert (await call(server, "POST", f"/{experiment['id']}/stop")).status_code == 200
    for method, path, body in [
        ("GET", "/999999", None),
        ("POST", "/999999/stop", None),
        ("POST", "/999999/winner", {"variant": "a"}),
        ("GET", f"/{2**60}", None),
    ]:
        response = await call(server, method, path, body)
        assert response.status_code == 404, (path, response.text)
        assert "no experiment" in response.json()["detail"]
    bad = await call(server, "POST", f"/{experiment['id']}/winner", {"variant": "c"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "variant"]


async def test_per_variant_numbers_with_intervals_and_the_winner_made_default(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    created = await call(server, "POST", body={"type": "video_complete", "a": COPY, "b": OTHER})
    experiment_id = created.json()["id"]
    # 400 students, one notification each: the trigger records each one's variant.
    await conn.execute(
        "INSERT INTO notifications (user_id, type, payload)"
        " SELECT gen_random_uuid(), 'video_complete', '{\"title\": \"Tides\"}'"
        " FROM generate_series(1, 400)"
    )
    # Delivered: all but every tenth; opened: a third of a's delivered, a tenth of b's.
    await conn.execute(
        """
        UPDATE notifications SET delivered_at = now(), delivered_via = 'stream',
               seen_at = CASE WHEN id % 2 = 0 THEN now() END,
               opened_at = CASE WHEN copy_variant = 'a' AND id % 3 = 0 THEN now()
                                WHEN copy_variant = 'b' AND id % 10 = 1 THEN now() END
        WHERE copy_experiment_id = $1 AND id % 10 <> 0
        """,
        experiment_id,
    )
    expected = {
        row["copy_variant"]: row
        for row in await conn.fetch(
            "SELECT copy_variant, count(*) AS created, count(delivered_at) AS delivered,"
            " count(seen_at) AS seen, count(opened_at) AS opened FROM notifications"
            " WHERE copy_experiment_id = $1 GROUP BY 1",
            experiment_id,
        )
    }
    listed = await call(server, "GET")
    assert listed.status_code == 200, listed.text
    [shown] = [e for e in listed.json()["experiments"] if e["id"] == experiment_id]
    assert shown == (await call(server, "GET", f"/{experiment_id}")).json()
    for variant in shown["variants"]:
        row = expected[variant["variant"]]
        numbers = [variant[k] for k in ("created", "delivered", "seen", "opened")]
        assert numbers == [row["created"], row["delivered"], row["seen"], row["opened"]]
        low, high = wilson(row["opened"], row["delivered"]) or (0, 0)
        ctr = variant["click_through"]
        assert ctr == {"value": round(row["opened"] / row["delivered"], 4),
                       "low": round(low, 4), "high": round(high, 4)}  # fmt: skip
        assert ctr["low"] < ctr["value"] < ctr["high"]
    comparison = shown["comparison"]
    assert comparison["metric"] == "click_through"
    assert comparison["leader"] == "a"
    assert comparison["low"] > 0
    assert comparison["p_value"] < 0.001

    won = await call(server, "POST", f"/{experiment_id}/winner", {"variant": "a"})
    assert won.status_code == 200, won.text
    assert won.json()["winner"] == "a"
    assert won.json()["running"] is False
    copy = await conn.fetchrow(
        "SELECT copy_heading, copy_body FROM notification_types WHERE name = 'video_complete'"
    )
    assert dict(copy) == {"copy_heading": COPY["heading"], "copy_body": COPY["body"]}
    await conn.execute("UPDATE notification_types SET copy_heading = NULL, copy_body = NULL")


async def test_small_variants_show_no_numbers(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    asks = {"heading": "A question for you", "body": "{question}"}
    other = {**asks, "heading": "Help us help you"}
    body = {"type": "clarification_needed", "a": asks, "b": other}
    created = await call(server, "POST", body=body)
    experiment_id = created.json()["id"]
    # Three students of each variant (random ones could all fall in one: a variant with none
    # hides nothing, and the other's six would show).
    await conn.execute(
        "INSERT INTO notifications (user_id, type, payload)"
        " SELECT u, 'clarification_needed', '{}' FROM ("
        "   SELECT u, row_number() OVER (PARTITION BY vividly_copy_variant_v1(u, $1)) AS n"
        "   FROM (SELECT gen_random_uuid() AS u FROM generate_series(1, 64)) AS students"
        " ) AS picked WHERE n <= 3",
        experiment_id,
    )
    shown = (await call(server, "GET", f"/{experiment_id}")).json()
    assert [v["variant"] for v in shown["variants"]] == ["a", "b"]
    # Six in all, three each: fewer than five in a variant, so neither shows numbers.
    assert [v["suppressed"] for v in shown["variants"]] == [True, True]
    assert all(v["created"] is None and v["click_through"] is None for v in shown["variants"])
    assert shown["comparison"] is None
