"""The push subscription endpoints over HTTP: key, subscribe, renew, check, unsubscribe, and
every bad input a 422 that stores nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from service.channels.push import subscriptions
from tests.support.push_api import BAD, PUBLIC, _with, stored, valid
from tests.support.server import RunningServer, running_server, settings_for


async def test_public_key_is_the_configured_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/push/public-key")
    assert response.status_code == 200
    assert response.json() == {"available": True, "public_key": PUBLIC}


async def test_needs_a_token(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        assert (await anonymous.get("/api/v1/push/public-key")).status_code == 401
        response = await anonymous.post("/api/v1/push/subscriptions", json=valid())
        assert response.status_code == 401


async def test_subscribe_renew_and_unsubscribe(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    body = valid(f"https://updates.push.services.mozilla.com/wpush/v2/{uuid.uuid4().hex}")
    first = await client.post("/api/v1/push/subscriptions", json=body)
    assert first.status_code == 201, first.text
    assert first.json() == {"endpoint": body["endpoint"], "created": True}
    again = await client.post("/api/v1/push/subscriptions", json=body)
    assert again.status_code == 200
    assert again.json()["created"] is False
    row = await stored(conn, body["endpoint"])
    assert row is not None
    assert row["user_id"] == client.user  # type: ignore[attr-defined]
    assert row["p256dh"] == body["keys"]["p256dh"]
    gone = await client.post("/api/v1/push/unsubscribe", json={"endpoint": body["endpoint"]})
    assert gone.status_code == 204
    assert await stored(conn, body["endpoint"]) is None


async def test_padded_keys_are_stored_unpadded(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    body = valid(f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}")
    body["keys"]["auth"] += "=="
    body["keys"]["p256dh"] += "="
    assert (await client.post("/api/v1/push/subscriptions", json=body)).status_code == 201
    row = await stored(conn, body["endpoint"])
    assert row is not None
    assert row["auth"] == body["keys"]["auth"].rstrip("=")


async def test_the_same_browser_moves_to_the_user_who_subscribes_it(
    server: RunningServer, client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    body = valid(f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}")
    assert (await client.post("/api/v1/push/subscriptions", json=body)).status_code == 201
    other = uuid.uuid4()
    headers = {"Authorization": f"Bearer {server.token(other)}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as second:
        # Unsubscribing another user's endpoint does nothing.
        refused = await second.post("/api/v1/push/unsubscribe", json={"endpoint": body["endpoint"]})
        assert refused.status_code == 204
        assert await stored(conn, body["endpoint"]) is not None
        moved = await second.post("/api/v1/push/subscriptions", json=body)
        # Answered as for a new browser: the caller learns nothing of whose it was.
        assert (moved.status_code, moved.json()["created"]) == (201, True)
        renewed = await second.post("/api/v1/push/subscriptions", json=body)
        assert (renewed.status_code, renewed.json()["created"]) == (200, False)
    row = await stored(conn, body["endpoint"])
    assert row is not None
    assert row["user_id"] == other


async def test_a_user_keeps_the_newest_devices(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    bodies = [valid(f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}") for _ in range(4)]
    for body in bodies:
        assert (await client.post("/api/v1/push/subscriptions", json=body)).status_code == 201
    user = client.user  # type: ignore[attr-defined]
    kept = await conn.fetch("SELECT endpoint FROM push_subscriptions WHERE user_id = $1", user)
    assert {row["endpoint"] for row in kept} == {body["endpoint"] for body in bodies[1:]}


@pytest.mark.parametrize(("field", "value"), BAD.values(), ids=BAD.keys())
async def test_bad_subscriptions_are_422_and_nothing_is_stored(
    client: httpx.AsyncClient, conn: asyncpg.Connection, field: str, value: Any
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM push_subscriptions")
    response = await client.post("/api/v1/push/subscriptions", json=_with(field, value))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]
    assert await conn.fetchval("SELECT count(*) FROM push_subscriptions") == before


async def test_not_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/push/subscriptions",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:9/p", "https://localhost/p", "http://app.localhost/p"],
)
def test_loopback_only_with_the_test_setting(endpoint: str) -> None:
    with pytest.raises(subscriptions.Refused):
        subscriptions.check_endpoint(endpoint, allow_loopback=False)
    assert subscriptions.check_endpoint(endpoint, allow_loopback=True) == endpoint


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://[::1]/p",
        "http://[::1]:9/p",  # the form a loopback stand-in would have: PUSH_ALLOW_LOOPBACK is IPv4
        "https://[::ffff:127.0.0.1]/p",
        "https://[2606:4700::1]/p",
    ],
)
def test_ipv6_literals_are_refused_even_with_the_test_setting(endpoint: str) -> None:
    for allow_loopback in (False, True):
        with pytest.raises(subscriptions.Refused):
            subscriptions.check_endpoint(endpoint, allow_loopback=allow_loopback)


async def test_push_off_without_keys(database_url: str) -> None:
    async with running_server(settings_for(database_url)) as off:
        headers = {"Authorization": f"Bearer {off.token(uuid.uuid4())}"}
        async with httpx.AsyncClient(base_url=off.base_url, headers=headers) as client:
            # What a page asks on every load: an answer, not an error.
            key = await client.get("/api/v1/push/public-key")
            assert key.status_code == 200
            assert key.json() == {"available": False, "public_key": None}
            response = await client.post("/api/v1/push/subscriptions", json=valid())
            assert response.status_code == 404
            assert response.json() == {"detail": "Web Push is off on this server"}


async def test_subscription_state_is_the_callers_only(
    server: RunningServer, client: httpx.AsyncClient
) -> None:
    body = valid(f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}")
    params = {"endpoint": body["endpoint"]}
    before = await client.get("/api/v1/push/subscription", params=params)
    assert before.json() == {"endpoint": body["endpoint"], "subscribed": False}
    assert (await client.post("/api/v1/push/subscriptions", json=body)).status_code == 201
    mine = await client.get("/api/v1/push/subscription", params=params)
    assert mine.json()["subscribed"] is True
    headers = {"Authorization": f"Bearer {server.token(uuid.uuid4())}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as other:
        theirs = await other.get("/api/v1/push/subscription", params=params)
        assert theirs.json()["subscribed"] is False  # the shared browser shows "off" to them


@pytest.mark.parametrize(
    "endpoint",
    ["https://fcm.googleapis.com/x\x00y", "\x00", "https://fcm.googleapis.com/\x7f", "a\ud800"],
)
async def test_nul_control_or_surrogate_endpoints_are_422_everywhere(
    client: httpx.AsyncClient, endpoint: str
) -> None:
    # JSON escapes (\u0000, \ud800) carry what UTF-8 cannot; they never reach Postgres.
    escaped = json.dumps({"endpoint": endpoint}, ensure_ascii=True)
    headers = {"Content-Type": "application/json"}
    unsubscribe = await client.post("/api/v1/push/unsubscribe", content=escaped, headers=headers)
    assert unsubscribe.status_code == 422, unsubscribe.text
    assert unsubscribe.json()["detail"][0]["loc"] == ["body", "endpoint"]
    body = json.dumps({**valid(), "endpoint": endpoint}, ensure_ascii=True)
    subscribe = await client.post("/api/v1/push/subscriptions", content=body, headers=headers)
    assert subscribe.status_code == 422, subscribe.text
    raw = quote(endpoint.encode("utf-8", "surrogatepass"), safe="")
    state = await client.get(f"/api/v1/push/subscription?endpoint={raw}")
    assert state.status_code in (400, 422), state.text


async def test_scheme_and_host_case_are_one_subscription(
    client: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    path = f"/fcm/send/{uuid.uuid4().hex}AbC"
    shouted = f"HTTPS://FCM.GoogleAPIs.com{path}"
    canonical = f"https://fcm.googleapis.com{path}"
    created = await client.post("/api/v1/push/subscriptions", json=valid(shouted))
    assert (created.status_code, created.json()["endpoint"]) == (201, canonical)
    assert await stored(conn, canonical) is not None  # the path keeps its case
    state = await client.get("/api/v1/push/subscription", params={"endpoint": shouted})
    assert state.json() == {"endpoint": canonical, "subscribed": True}
    gone = await client.post("/api/v1/push/unsubscribe", json={"endpoint": shouted})
    assert gone.status_code == 204
    assert await stored(conn, canonical) is None
