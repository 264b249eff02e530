"""What a clicked push does without a session (its action token), and the service worker that
shows pushes, built from the client package's type registry."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from service.channels.push import actions, keys, worker_script
from service.notifications import text as notification_text
from tests.support.push_api import _altered, _notification
from tests.support.server import RunningServer


async def test_service_worker_is_served_for_the_whole_origin(client: httpx.AsyncClient) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/"
    assert "no-cache" in response.headers["cache-control"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The worker with the type registry ahead of it, byte for byte (not the page or a 404 page),
    # with its three handlers.
    assert response.content == worker_script.service_worker()
    assert worker_script.WORKER.read_text() in response.text
    for event in ("push", "notificationclick", "pushsubscriptionchange"):
        assert f"addEventListener('{event}'" in response.text
    # A classic script (importScripts cannot load modules).
    assert not any(line.startswith(("import ", "export ")) for line in response.text.splitlines())


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


def test_the_type_registry_becomes_a_classic_script() -> None:
    module = "const hidden = 1;\nexport const A = 2;\nexport function b() {\n  return hidden;\n}\n"
    script = worker_script.classic(module, "Registry")
    assert "export" not in script
    check = subprocess.run(
        ["node", "-e", script + "process.stdout.write(JSON.stringify([Registry.A, Registry.b()]))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(check.stdout) == [2, 1]
    # Anything else a module may say has no classic form: refused, not served half-converted.
    for module in ("import x from './x.js';\nexport const A = x;\n", "export default 1;\n", ""):
        with pytest.raises(ValueError, match="become classic"):
            worker_script.classic(module, "Registry")


def test_the_served_worker_reads_the_registry() -> None:
    """/sw.js runs as one classic script: its push handler tags and titles with the registry."""
    fake_worker = """
    const listeners = {};
    const shown = [];
    const showNotification = async (title, options) => shown.push([title, options.tag]);
    globalThis.self = {
      location: { origin: 'https://notify.example', href: 'https://notify.example/sw.js' },
      addEventListener: (name, handler) => (listeners[name] = handler),
      registration: { showNotification },
    };
    """
    pushes = """
    const push = (message) => listeners.push({ data: { json: () => message }, waitUntil() {} });
    push({ id: 7, type: 'video_complete', title: '', body: '' });
    push({ id: 8, type: 'video_complete', title: 'Your video is ready', body: 'Waves' });
    process.stdout.write(JSON.stringify(shown));
    """
    script = worker_script.service_worker().decode()
    run = subprocess.run(
        ["node", "-e", fake_worker + script + pushes],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(run.stdout) == [
        ["video complete", "vividly-7"],
        ["Your video is ready", "vividly-8"],
    ]


def test_the_page_and_the_server_read_a_notifications_text_in_one_order() -> None:
    registry = worker_script.classic(worker_script.TYPES.read_text(), "Types")
    run = subprocess.run(
        ["node", "-e", registry + "process.stdout.write(JSON.stringify(Types.TEXT_KEYS))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert tuple(json.loads(run.stdout)) == notification_text.TEXT_KEYS
