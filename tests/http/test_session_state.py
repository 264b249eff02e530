"""`GET /api/v1/session`: signed in or not, always a 200 (the pages ask it at boot, so a
signed-out visit logs no error), who, whether an admin, and whether the dev login answers."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from service.http.auth import mint_token
from tests.support.server import RunningServer

SESSION = "/api/v1/session"


async def state(server: RunningServer, **headers: str) -> Any:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get(SESSION, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_signed_out_or_with_a_bad_token_is_a_200_saying_so(server: RunningServer) -> None:
    signed_out = {"signed_in": False, "user_id": None, "admin": False, "dev_login": True}
    assert await state(server) == signed_out
    assert await state(server, Authorization="Bearer not-a-token") == signed_out
    expired = server.token(uuid.uuid4(), ttl=timedelta(seconds=-60))
    assert await state(server, Authorization=f"Bearer {expired}") == signed_out
    assert await state(server, Cookie=f"access_token={expired}") == signed_out


async def test_signed_in_by_header_or_cookie_says_who_and_whether_an_admin(
    server: RunningServer,
) -> None:
    user = uuid.uuid4()
    token = server.token(user)
    signed_in = {"signed_in": True, "user_id": str(user), "admin": False, "dev_login": True}
    assert await state(server, Authorization=f"Bearer {token}") == signed_in
    assert await state(server, Cookie=f"access_token={token}") == signed_in
    admin = mint_token(user, server.settings, ttl=timedelta(minutes=5), roles=["admin"])
    assert (await state(server, Authorization=f"Bearer {admin}"))["admin"] is True


async def test_dev_login_is_false_where_it_would_not_answer(server: RunningServer) -> None:
    assert (await state(server, Host="vividly.example"))["dev_login"] is False
    assert (await state(server, **{"X-Forwarded-For": "10.0.0.1"}))["dev_login"] is False
