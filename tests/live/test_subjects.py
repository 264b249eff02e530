"""Where a notification leads (`subject_of`), and the wire format carrying it as `link`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from service.live.events import notification_event, notification_json
from service.live.subjects import Subject, subject_of

CONTENT = "0b7e5a3c-2f1d-4c8e-a9b0-1c2d3e4f5a6b"


@pytest.mark.parametrize(
    ("payload", "subject"),
    [
        # The ready video: the app's player on it.
        (
            {"content_id": CONTENT, "video_url": "/media/videos/v.webm", "title": "Tides"},
            Subject("video", f"/videos/{CONTENT}", CONTENT),
        ),
        # A failure and a question: the request's own page, with its Try again or question.
        (
            {"content_id": CONTENT, "error_message": "The renderer ran out of time."},
            Subject("request", f"/requests/{CONTENT}", CONTENT),
        ),
        (
            {"content_id": CONTENT, "question": "Which sky?"},
            Subject("request", f"/requests/{CONTENT}", CONTENT),
        ),
        (
            {"content_id": CONTENT, "video_url": "  "},
            Subject("request", f"/requests/{CONTENT}", CONTENT),
        ),
        # Nothing to name: home, whatever else it carries (never the payload's URL).
        ({"title": "Hello"}, Subject("home", "/")),
        ({"content_id": "", "video_url": "/media/v.webm"}, Subject("home", "/")),
        ({"video_url": "https://evil.example/v.webm"}, Subject("home", "/")),
        ({"content_id": 7}, Subject("home", "/")),
        ({}, Subject("home", "/")),
        (None, Subject("home", "/")),
        (["content_id"], Subject("home", "/")),
    ],
)
def test_a_notification_leads_to_its_subjects_page(payload: Any, subject: Subject) -> None:
    assert subject_of(payload) == subject


@pytest.mark.parametrize(
    "content_id",
    [
        "../admin?x=1#y",
        "%2F%2Fevil.example",
        "//evil.example",
        "lesson-42",
        CONTENT + "/x",
        "x" * 3000,
    ],
)
def test_an_id_that_is_no_request_leads_home(content_id: str) -> None:
    # No request page exists for it (a `/` in it would not even reach the app: a JSON 404).
    assert subject_of({"content_id": content_id, "video_url": "/v.webm"}) == Subject("home", "/")


def test_a_request_id_is_written_canonically() -> None:
    spelled = "{" + CONTENT.upper().replace("-", "") + "}"
    assert subject_of({"content_id": spelled}) == Subject(
        "request", f"/requests/{CONTENT}", CONTENT
    )


def _row(payload: Any) -> dict[str, Any]:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    return {
        "id": 42,
        "type": "video_failed",
        "user_id": uuid.uuid4(),
        "payload": payload,
        "created_at": now,
        "read_at": None,
        "dismissed_at": None,
        "snoozed_until": None,
    }


def test_every_notification_carries_its_subjects_path_as_link() -> None:
    failed = _row({"content_id": CONTENT, "error_message": "No."})
    assert notification_json(failed)["link"] == f"/requests/{CONTENT}"
    ready = _row({"content_id": CONTENT, "video_url": "/media/v.webm"})
    assert notification_json(ready)["link"] == f"/videos/{CONTENT}"
    assert notification_json(_row({"note": "hi"}))["link"] == "/"
    # The stream's message is the same JSON.
    frame = notification_event(failed).frame.decode()
    [data] = [line[len("data: ") :] for line in frame.splitlines() if line.startswith("data: ")]
    assert orjson.loads(data) == notification_json(failed)
