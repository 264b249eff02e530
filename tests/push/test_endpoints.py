"""The push endpoints over HTTP: key, subscribe, unsubscribe, and every bad input a 422."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from service.app import PUSH_WORKER
from service.push import actions, keys, subscriptions
from service.settings import Settings

from ..service.live import RunningServer, running_server, settings_for
from .standin import Browser

PUBLIC, PRIVATE = keys.new_pair()


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(
        database_url,
        vapid_public_key=PUBLIC,
        vapid_private_key=PRIVATE,
        vapid_subject="https://vividly.example/contact",
        public_url="https://notify.example",
        push_allow_loopback=True,
        push_max_subscriptions_per_user=3,
    )


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    user = uuid.uuid4()
    headers = {"Authorization": f"Bearer {server.token(user)}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as created:
        created.user = user  # type: ignore[attr-defined]
        yield created


def valid(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc") -> dict[str, Any]:
    return Browser(endpoint).json()


async def stored(conn: asyncpg.Connection, endpoint: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM push_subscriptions WHERE endpoint = $1", endpoint
    )
    return row


async def test_public_key_is_the_configured_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/push/public-key")
    assert response.status_code == 200
    assert response.json() == {"public_key": PUBLIC}


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


def _with(path: str, value: Any) -> dict[str, Any]:
    body = valid(f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4().hex}")
    if path == "endpoint":
        body["endpoint"] = value
    elif path == "body":
        return value  # type: ignore[no-any-return]
    else:
        body["keys"][path] = value
    return body


NOT_ON_CURVE = keys.b64url_encode(b"\x04" + b"\x01" * 64)
BAD = {
    "http, not https": ("endpoint", "http://fcm.googleapis.com/fcm/send/x"),
    "not a URL": ("endpoint", "fcm.googleapis.com/x"),
    "ftp": ("endpoint", "ftp://fcm.googleapis.com/x"),
    "private address": ("endpoint", "https://10.1.2.3/push"),
    "metadata address": ("endpoint", "https://169.254.169.254/latest"),
    "IPv6 unique local": ("endpoint", "https://[fd00::1]/push"),
    "IPv4-mapped private": ("endpoint", "https://[::ffff:192.168.0.1]/push"),
    # Global-looking IP literals: no push service uses one, and py_vapid cannot sign for them.
    "IPv6 global literal": ("endpoint", "https://[2606:4700:4700::1111]/x"),
    "IPv4 global literal": ("endpoint", "https://1.1.1.1/x"),
    "NAT64 of the metadata address": ("endpoint", "https://[64:ff9b::a9fe:a9fe]/x"),
    "internal name": ("endpoint", "https://push.internal/x"),
    "single-label name": ("endpoint", "https://intranet/x"),
    "another port": ("endpoint", "https://fcm.googleapis.com:8443/x"),
    "user info": ("endpoint", "https://user:pw@fcm.googleapis.com/x"),
    "spaces": ("endpoint", "https://fcm.googleapis.com/a b"),
    "too long": ("endpoint", "https://fcm.googleapis.com/" + "a" * 2100),
    "p256dh too short": ("p256dh", keys.b64url_encode(b"\x04" + b"\x01" * 10)),
    "p256dh not on the curve": ("p256dh", NOT_ON_CURVE),
    "p256dh not base64url": ("p256dh", "!" * 87),
    "p256dh standard base64": ("p256dh", "+/" * 43 + "A"),
    "auth too short": ("auth", keys.b64url_encode(b"\x01" * 8)),
    "auth too long": ("auth", "A" * 200),
    "auth missing": ("auth", None),
    "no keys": ("body", {"endpoint": "https://fcm.googleapis.com/fcm/send/x"}),
    "not an object": ("body", ["https://fcm.googleapis.com/fcm/send/x"]),
}


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
            for response in (
                await client.get("/api/v1/push/public-key"),
                await client.post("/api/v1/push/subscriptions", json=valid()),
            ):
                assert response.status_code == 404
                assert response.json() == {"detail": "Web Push is off on this server"}


async def test_service_worker_is_served_for_the_whole_origin(client: httpx.AsyncClient) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/"
    assert "no-cache" in response.headers["cache-control"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The worker itself, byte for byte (not the page or a 404 page), with its three handlers.
    assert response.content == PUSH_WORKER.read_bytes()
    for event in ("push", "notificationclick", "pushsubscriptionchange"):
        assert f"addEventListener('{event}'" in response.text
    # A classic script (importScripts cannot load modules).
    assert not any(line.startswith(("import ", "export ")) for line in response.text.splitlines())


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


async def _notification(conn: asyncpg.Connection, user: uuid.UUID) -> int:
    notification_id: int = await conn.fetchval(
        "INSERT INTO notifications (user_id, type, payload) VALUES ($1, 'video_complete', '{}')"
        " RETURNING id",
        user,
    )
    return notification_id


async def test_action_token_marks_its_notification_without_a_session(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    notification_id = await _notification(conn, user)
    key = actions.key_for(server.settings)
    token = actions.token(key, notification_id, user, int(time.time()) + 60)
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        opened = await anonymous.post(f"/api/v1/push/actions/{token}/opened")
        assert opened.status_code == 204, opened.text
        read = await anonymous.post(f"/api/v1/push/actions/{token}/read")
        assert read.status_code == 204
        again = await anonymous.post(f"/api/v1/push/actions/{token}/read")
        assert again.status_code == 204
    row = await conn.fetchrow(
        "SELECT read_at, opened_at, seen_at FROM notifications WHERE id = $1", notification_id
    )
    assert None not in (row["read_at"], row["opened_at"], row["seen_at"])


def _altered(token: str) -> str:
    notification, user, expires, mac = token.split(".")
    return f"{int(notification) + 1}.{user}.{expires}.{mac}"


async def test_forged_altered_or_expired_action_tokens_change_nothing(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    notification_id = await _notification(conn, user)
    neighbour = await _notification(conn, user)
    key = actions.key_for(server.settings)
    soon = int(time.time()) + 60
    other_key = actions.key_for(
        server.settings.model_copy(update={"vapid_private_key": SecretStr(keys.new_pair()[1])})
    )
    refused = {
        "forged": actions.token(other_key, notification_id, user, soon),
        "altered": _altered(actions.token(key, neighbour - 1, user, soon)),
        "expired": actions.token(key, notification_id, user, int(time.time()) - 1),
        "garbage": "not-a-token",
    }
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        for name, token in refused.items():
            for action in ("read", "opened"):
                response = await anonymous.post(f"/api/v1/push/actions/{token}/{action}")
                assert response.status_code == 403, (name, response.text)
        valid_token = actions.token(key, notification_id, user, soon)
        unknown = await anonymous.post(f"/api/v1/push/actions/{valid_token}/dismiss")
        assert unknown.status_code == 422
    changed = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1"
        " AND (read_at IS NOT NULL OR opened_at IS NOT NULL OR seen_at IS NOT NULL)",
        user,
    )
    assert changed == 0


def test_vapid_keys_command_prints_a_pair_the_settings_accept() -> None:
    command = [sys.executable, "-m", "service", "vapid-keys"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    lines = dict(line.split("=", 1) for line in result.stdout.split())
    assert set(lines) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"}
    settings = Settings(
        vapid_public_key=lines["VAPID_PUBLIC_KEY"],
        vapid_private_key=SecretStr(lines["VAPID_PRIVATE_KEY"]),
        vapid_subject="mailto:ops@vividly.example",
        public_url="https://notify.example",
    )
    assert settings.push_enabled


def test_settings_refuse_half_or_mismatched_keys() -> None:
    other_public, _ = keys.new_pair()
    with pytest.raises(ValueError, match="both"):
        Settings(vapid_public_key=PUBLIC)
    with pytest.raises(ValueError, match="not the public key"):
        Settings(vapid_public_key=other_public, vapid_private_key=PRIVATE)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="VAPID_SUBJECT"):
        Settings(vapid_subject="admin@example.com")


@pytest.mark.parametrize(
    "subject",
    ["mailto:admin@localhost", "mailto:ops@intranet", "https://localhost/x", "mailto:a@box.local"],
)
def test_settings_refuse_a_subject_push_services_refuse(subject: str) -> None:
    with pytest.raises(ValueError, match="public domain"):
        Settings(vapid_subject=subject)


def test_push_needs_a_subject() -> None:
    with pytest.raises(ValueError, match="needs VAPID_SUBJECT"):
        Settings(vapid_public_key=PUBLIC, vapid_private_key=PRIVATE)  # type: ignore[arg-type]
    accepted = Settings(vapid_subject="https://school.example/contact")
    assert accepted.vapid_subject == "https://school.example/contact"


def test_push_needs_a_public_url() -> None:
    # Unset, links in pushes would point at where this process is bound (0.0.0.0, 127.0.0.1).
    with pytest.raises(ValueError, match="set PUBLIC_URL") as refused:
        Settings(
            vapid_public_key=PUBLIC,
            vapid_private_key=PRIVATE,  # type: ignore[arg-type]
            vapid_subject="mailto:ops@vividly.example",
            host="0.0.0.0",
            port=8000,
        )
    assert "http://0.0.0.0:8000" in str(refused.value)
    accepted = Settings(
        vapid_public_key=PUBLIC,
        vapid_private_key=PRIVATE,  # type: ignore[arg-type]
        vapid_subject="mailto:ops@vividly.example",
        public_url="https://notify.example",
    )
    assert accepted.push_enabled
    assert accepted.base_url == "https://notify.example"


def test_ttl_must_outlive_the_delays() -> None:
    with pytest.raises(ValueError, match="PUSH_TTL_SECONDS"):
        Settings(push_ttl_seconds=60, push_delay_seconds=60)
