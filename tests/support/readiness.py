"""What /readyz and /metrics answer, read by tests of readiness and its faults."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support.waiting import until


async def ready(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/readyz")
    body: dict[str, Any] = response.json()
    assert (response.status_code == 200) == (body["status"] == "ready"), body
    return body


async def until_ready(client: httpx.AsyncClient, timeout: float = 10) -> None:
    async def is_ready() -> bool:
        return bool((await ready(client))["status"] == "ready")

    await until(is_ready, "/readyz is 200", timeout=timeout)


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    assert match, f"{name}{labels} missing"
    return float(match.group(1))
