"""A student's authenticated HTTP client of the notification API (`/api/v1/notifications`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.server import RunningServer

API = "/api/v1/notifications"


class Client:
    def __init__(self, server: RunningServer, user: uuid.UUID) -> None:
        self.user = user
        self.http = httpx.AsyncClient(
            base_url=server.base_url + API,
            headers={"Authorization": f"Bearer {server.token(user)}"},
        )

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def post(self, path: str, json: Any = None, expect: int = 200) -> Any:
        response = await self.http.post(path, json=json)
        assert response.status_code == expect, response.text
        return response.json()
