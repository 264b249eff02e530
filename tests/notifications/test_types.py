"""The registry of types over HTTP: `/types`, preferences for every registered type and only
those, and a type added like a migration would add it flowing through history, counts,
preferences and the stream with no other change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.support import new_type
from tests.support.server import RunningServer, open_stream

API = "/api/v1/notifications"


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[tuple[httpx.AsyncClient, uuid.UUID]]:
    user = uuid.uuid4()
    async with httpx.AsyncClient(
        base_url=server.base_url + API, headers={"Authorization": f"Bearer {server.token(user)}"}
    ) as http:
        yield http, user


async def test_types_are_the_registry_with_labels(
    server: RunningServer, client: tuple[httpx.AsyncClient, uuid.UUID], conn: asyncpg.Connection
) -> None:
    http, _ = client
    response = await http.get("/types")
    assert response.status_code == 200
    names = [row["name"] for row in await conn.fetch("SELECT name FROM notification_types")]
    types = {t["name"]: t for t in response.json()["types"]}
    assert sorted(types) == sorted(names)
    assert types["video_complete"] == {
        "name": "video_complete",
        "label": "Your video is ready",
        "description": "A video you asked for is ready to watch.",
    }
    async with httpx.AsyncClient(base_url=server.base_url + API) as anonymous:
        assert (await anonymous.get("/types")).status_code == 401


async def test_an_unknown_type_is_a_422_naming_it_and_nothing_changes(
    client: tuple[httpx.AsyncClient, uuid.UUID],
) -> None:
    http, _ = client
    response = await http.put(
        "/preferences", json={"in_app": {"video_complete": False, "sms_digest": True}}
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "in_app", "sms_digest"]
    assert "sms_digest" in problem["msg"]
    in_app = (await http.get("/preferences")).json()["in_app"]
    assert in_app["video_complete"] is True
    assert "sms_digest" not in in_app


async def test_a_type_added_like_a_migration_flows_through_without_code(
    server: RunningServer, client: tuple[httpx.AsyncClient, uuid.UUID], conn: asyncpg.Connection
) -> None:
    http, user = client
    async with open_stream(server.base_url, server.token(user)) as stream:
        assert (await stream.next()).event == "connected"
        await new_type.add_type(conn)

        types = {t["name"]: t for t in (await http.get("/types")).json()["types"]}
        assert types[new_type.NAME] == {
            "name": new_type.NAME,
            "label": new_type.LABEL,
            "description": new_type.DESCRIPTION,
        }
        assert (await http.get("/preferences")).json()["in_app"][new_type.NAME] is True

        # Muted, it creates nothing; on again, it is delivered.
        response = await http.put("/preferences", json={"in_app": {new_type.NAME: False}})
        assert response.status_code == 200, response.text
        assert response.json()["in_app"][new_type.NAME] is False
        assert await new_type.notify(conn, user, {"title": "Muted"}) is None
        response = await http.put("/preferences", json={"in_app": {new_type.NAME: True}})
        assert response.json()["in_app"][new_type.NAME] is True
        # A field no other type has reaches clients too: the payload is the type's own.
        payload = {"title": "Algebra II", "course_id": "alg-2", "lessons": 3}
        new_id = await new_type.notify(conn, user, payload)
        assert new_id is not None

        [live] = await stream.notifications(1)
        assert (live["id"], live["type"], live["payload"]) == (new_id, new_type.NAME, payload)

    history = (await http.get("/history", params={"type": new_type.NAME})).json()
    assert history["items"] == [live]
    counts = (await http.get("/unread-count")).json()
    assert counts == {"unread_count": 1, "by_type": {new_type.NAME: 1}}


async def test_types_are_documented_with_their_model(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        document = (await http.get("/openapi.json")).json()
    responses = document["paths"][API + "/types"]["get"]["responses"]
    assert {"200", "401"} <= set(responses)
    schema = responses["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/NotificationTypesOut"}
    item = document["components"]["schemas"]["NotificationTypeOut"]
    assert set(item["required"]) == {"name", "label", "description"}


async def test_a_type_registered_without_a_label_is_shown_by_its_name(
    client: tuple[httpx.AsyncClient, uuid.UUID], conn: asyncpg.Connection
) -> None:
    http, _ = client
    await conn.execute(
        "INSERT INTO notification_types (name, description) VALUES ('quiz_due', 'A quiz is due.')"
    )
    types = {t["name"]: t for t in (await http.get("/types")).json()["types"]}
    assert types["quiz_due"]["label"] == "quiz_due"
