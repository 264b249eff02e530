"""deploy/nginx.conf on a real nginx (Debian's), in front of a real uvicorn on the loopback.

What nginx itself decides is checked against an echo app behind uvicorn's own forwarded-header
middleware (trusting the proxy's address only, as FORWARDED_ALLOW_IPS does in compose): which
request id and client address reach a replica, and that its connections to the replica are
reused. The stream's headers and the ops endpoints are checked on the service itself.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from service.settings import Settings
from tests.support.server import RunningServer, open_stream, serving, settings_for
from tests.support.waiting import until

from . import nginx

PROXY = "127.0.0.1"  # nginx's address as the replica sees it
TOKEN = "metrics-token-0123456789"


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = json.dumps(
        {
            "client": scope["client"][0],
            "peer_port": scope["state"]["peer_port"],
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        }
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


# uvicorn's forwarded-header middleware, as `FORWARDED_ALLOW_IPS=<the proxy>` installs it.
_FORWARDED: Any = ProxyHeadersMiddleware(cast(Any, _echo), trusted_hosts=PROXY)


async def _replica(scope: Scope, receive: Receive, send: Send) -> None:
    # The TCP peer (nginx's side of the upstream connection), then uvicorn's forwarded headers.
    if scope["type"] == "http":
        scope["state"] = {"peer_port": scope["client"][1]}
    await _FORWARDED(scope, receive, send)


@pytest.fixture(scope="module")
async def echo() -> AsyncIterator[int]:
    config = uvicorn.Config(
        _replica, host="127.0.0.1", port=0, lifespan="off", proxy_headers=False, log_level="warning"
    )
    async with serving(uvicorn.Server(config)) as port:
        yield port


@pytest.fixture(scope="module")
def echo_proxy(echo: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nginx.proxy(tmp_path_factory.mktemp("nginx-echo"), echo) as running:
        yield running.url


async def seen(proxy: str, **headers: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=proxy) as client:
        response = await client.get("/anything", headers=headers)
    assert response.status_code == 200, response.text
    seen: dict[str, Any] = response.json()
    return seen


async def test_a_request_id_from_a_load_balancer_is_kept(echo_proxy: str) -> None:
    kept = await seen(echo_proxy, **{"X-Request-ID": "lb-7f3a.92_x"})
    assert kept["headers"]["x-request-id"] == "lb-7f3a.92_x"
    made = await seen(echo_proxy)
    assert re.fullmatch(r"[0-9a-f]{32}", made["headers"]["x-request-id"])
    # Not a plain token (log injection, a megabyte): replaced, as the service would.
    replaced = await seen(echo_proxy, **{"X-Request-ID": "a b\tc"})
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["headers"]["x-request-id"])


async def test_a_client_cannot_choose_its_address(echo_proxy: str) -> None:
    forged = await seen(echo_proxy, **{"X-Forwarded-For": "203.0.113.9"})
    assert forged["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert forged["client"] == "127.0.0.1"


async def test_connections_to_the_replica_are_reused(echo_proxy: str) -> None:
    ports = [(await seen(echo_proxy))["peer_port"] for _ in range(5)]
    assert len(set(ports)) == 1, ports


async def test_metrics_are_not_served_through_the_proxy(echo_proxy: str) -> None:
    async with httpx.AsyncClient(base_url=echo_proxy) as client:
        for path in ("/metrics", "/metrics/"):
            assert (await client.get(path)).status_code == 404
        assert (await client.get("/metricsx")).status_code == 200  # the echo app


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(database_url, metrics_token=TOKEN)


@pytest.fixture(scope="module")
def service_proxy(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = int(server.base_url.rpartition(":")[2])
    with nginx.proxy(tmp_path_factory.mktemp("nginx-service"), port) as running:
        yield running.url


async def test_the_stream_through_the_proxy_is_neither_stored_nor_transformed(
    server: RunningServer, service_proxy: str
) -> None:
    async with open_stream(service_proxy, server.token(uuid.uuid4())) as stream:
        headers = stream.response.headers
        assert stream.response.status_code == 200
        assert headers["cache-control"] == "no-store, no-transform"
        assert headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in headers
        first = await stream.next(5)  # unbuffered: the first frame arrives at once
        assert first.event == "connected"


async def test_ops_endpoints_need_the_token_and_stay_behind_the_proxy(
    server: RunningServer, service_proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator = {"Authorization": f"Bearer {TOKEN}"}

    async def lost(_channel: str, _payload: str) -> None:
        return None  # the probe NOTIFY never arrives: /readyz has a problem to tell

    monkeypatch.setattr(server.listener, "_probe", lost)
    async with httpx.AsyncClient(base_url=server.base_url) as direct:

        async def unready() -> bool:
            return (await direct.get("/readyz")).status_code == 503

        await until(unready, "/readyz is 503", timeout=10)
        anonymous = await direct.get("/readyz")
        detailed = await direct.get("/readyz", headers=operator)
        assert (await direct.get("/metrics")).status_code == 401
        assert (await direct.get("/metrics", headers=operator)).status_code == 200
    assert anonymous.json() == {"status": "unavailable"}
    assert detailed.status_code == 503
    [problem] = detailed.json()["problems"]
    assert problem.startswith("listener: connected, but has not heard its own NOTIFY")
    # Through the proxy neither exists: both are asked of each replica, inside the network.
    async with httpx.AsyncClient(base_url=service_proxy) as client:
        for path in ("/metrics", "/readyz", "/readyz/", "/metrics/x"):
            assert (await client.get(path, headers=operator)).status_code == 404
            assert (await client.get(path)).status_code == 404


async def test_a_reload_ends_the_old_workers_streams(server: RunningServer, tmp_path: Path) -> None:
    # Without worker_shutdown_timeout an old worker keeps its streams until each one ends (up
    # to STREAM_MAX_AGE_SECONDS); with it they are closed and the browsers reconnect.
    port = int(server.base_url.rpartition(":")[2])

    # (After the readiness test above, once the listener hears its probe again.)
    def admitted() -> bool:
        return not server.listener.deaf() and server.hub.suspended is None

    await until(admitted, "streams are admitted", timeout=15)
    with nginx.proxy(tmp_path, port, shutdown_timeout="1s") as proxy:
        async with open_stream(proxy.url, server.token(uuid.uuid4())) as stream:
            assert (await stream.next(5)).event == "connected"
            proxy.reload()
            await asyncio.wait_for(stream.ended.wait(), 10)
        async with open_stream(proxy.url, server.token(uuid.uuid4())) as again:
            assert (await again.next(5)).event == "connected"  # the new workers serve
