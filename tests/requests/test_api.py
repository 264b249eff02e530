"""The content-request API: ask, list, look at one, answer a clarification."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from service.settings import Settings
from tests.support.server import RunningServer, settings_for

API = "/api/v1/content-requests"


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    # No worker here: requests stay pending, and the paging test asks more than the default cap.
    return settings_for(database_url, max_open_requests_per_student=10)


@pytest.fixture
async def student(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    user = uuid.uuid4()
    async with httpx.AsyncClient(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.token(user)}"},
    ) as client:
        client.headers["X-Test-User"] = str(user)
        yield client


async def ask(client: httpx.AsyncClient, question: str = "How do plants make food?") -> Any:
    response = await client.post(API, json={"question": question})
    assert response.status_code == 201, response.text
    return response.json()


async def test_ask_returns_the_pending_row(student: httpx.AsyncClient) -> None:
    created = await ask(student, "  Why is the sky blue?  ")
    assert created["status"] == "pending"
    assert created["question"] == "Why is the sky blue?"
    assert created["student_id"] == student.headers["X-Test-User"]
    fetched = await student.get(f"{API}/{created['id']}")
    assert fetched.json() == created


@pytest.mark.parametrize(
    "body",
    [
        {"question": ""},
        {"question": "   \n "},
        {"question": "x" * 2001},
        {"question": "a\x00b"},
        {"question": 42},
        {},
        {"question": "ok", "priority": "high"},
    ],
    ids=["empty", "blank", "too-long", "nul", "not-text", "missing", "extra-field"],
)
async def test_bad_questions_are_422_and_create_nothing(
    student: httpx.AsyncClient, conn: asyncpg.Connection, body: dict[str, Any]
) -> None:
    response = await student.post(API, json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
    count = await conn.fetchval(
        "SELECT count(*) FROM content_requests WHERE student_id = $1",
        uuid.UUID(student.headers["X-Test-User"]),
    )
    assert count == 0


async def test_only_the_owner_sees_a_request(
    server: RunningServer, student: httpx.AsyncClient
) -> None:
    created = await ask(student)
    async with httpx.AsyncClient(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.token(uuid.uuid4())}"},
    ) as other:
        theirs = await other.get(f"{API}/{created['id']}")
        missing = await other.get(f"{API}/{uuid.uuid4()}")
        listed = await other.get(API)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json() == {"detail": "content request not found"}
    assert listed.json() == {"items": [], "next_cursor": None}
    assert (await student.get(f"{API}/not-a-uuid")).status_code == 422


async def test_list_is_newest_first_and_keyset_paged(student: httpx.AsyncClient) -> None:
    ids = [(await ask(student, f"question {i}"))["id"] for i in range(7)]
    walked: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = (await student.get(API, params=params)).json()
        walked += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert walked == ids[::-1]
    bad = await student.get(API, params={"cursor": "garbage"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "cursor"]
    foreign = await student.get(API, params={"cursor": str(uuid.uuid4())})
    assert foreign.json() == {"items": [], "next_cursor": None}


async def test_clarification_only_from_clarification_needed(
    student: httpx.AsyncClient, conn: asyncpg.Connection
) -> None:
    created = await ask(student)
    early = await student.post(f"{API}/{created['id']}/clarification", json={"answer": "grade 7"})
    assert early.status_code == 409
    assert "pending" in early.json()["detail"]

    await conn.execute(
        "UPDATE content_requests SET status = 'clarification_needed',"
        " clarification_question = 'Which grade?' WHERE id = $1",
        uuid.UUID(created["id"]),
    )
    answered = await student.post(
        f"{API}/{created['id']}/clarification", json={"answer": " grade 7 "}
    )
    assert answered.status_code == 200
    assert answered.json()["status"] == "pending"
    assert answered.json()["clarification_answer"] == "grade 7"
    again = await student.post(f"{API}/{created['id']}/clarification", json={"answer": "grade 8"})
    assert again.status_code == 409
    blank = await student.post(f"{API}/{created['id']}/clarification", json={"answer": ""})
    assert blank.status_code == 422
    missing = await student.post(f"{API}/{uuid.uuid4()}/clarification", json={"answer": "x"})
    assert missing.status_code == 404


async def test_a_lone_surrogate_is_a_422_not_a_500(student: httpx.AsyncClient) -> None:
    response = await student.post(
        API, content=b'{"question": "\\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "question"]
