"""What a push carries fits one 4096-byte aes128gcm record, whatever the notification holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from service.channels.push import message, sender
from service.settings import Settings
from tests.support.push_standin import Browser


@pytest.mark.parametrize("char", ["a", "é", "😀", '"'])
def test_a_long_notification_is_cut_to_fit_one_record(char: str) -> None:
    settings = Settings(public_url="https://notify.example")
    data = message.render(
        settings,
        notification_id=7,
        type_name="video_complete",
        label=char * 3000,
        payload={"title": char * 3000, "question": char * 3000, "content_id": "c"},
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
        action="1.2.3.4" * 10,
    )
    assert len(data) <= message.MAX_PLAINTEXT
    shown = json.loads(data)
    assert shown["body"].endswith("…")
    assert shown["action"] == "1.2.3.4" * 10
    browser = Browser("https://push.example/x")
    keys = browser.json()["keys"]
    body = sender.encrypt(data, keys["p256dh"], keys["auth"])
    assert len(body) <= sender.MAX_RECORD
    assert browser.decrypt(body) == data


def test_more_than_a_record_is_refused() -> None:
    keys = Browser("https://push.example/x").json()["keys"]
    with pytest.raises(sender.TooLarge):
        sender.encrypt(b"x" * (message.MAX_PLAINTEXT + 1), keys["p256dh"], keys["auth"])
    assert len(sender.encrypt(b"x" * message.MAX_PLAINTEXT, keys["p256dh"], keys["auth"])) == 4096


def test_a_long_link_leaves_less_room_for_the_body() -> None:
    long_path = "https://app.example/" + "p" * 3000 + "/{content_id}"
    settings = Settings(public_url="https://notify.example", video_link_template=long_path)
    payload = {"question": "😀" * 3000, "content_id": CONTENT, "video_url": "/media/v.webm"}
    data = message.render(
        settings,
        notification_id=7,
        type_name="video_complete",
        label=None,
        payload=payload,
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    assert len(data) <= message.MAX_PLAINTEXT
    shown = json.loads(data)
    assert shown["link"] == long_path.format(content_id=CONTENT)  # never cut: a cut link goes
    # nowhere
    assert 0 < len(shown["body"]) < 400
    assert shown["body"].endswith("…")


SETTINGS = Settings(public_url="https://notify.example")
CONTENT = "0b7e5a3c-0000-4000-8000-000000000001"
LABELS = {
    "video_complete": "Your video is ready",
    "video_failed": "We couldn't make your video",
    "clarification_needed": "We need a bit more detail",
}


def _rich(type_name: str, payload: dict[str, object]) -> tuple[bytes, dict[str, object]]:
    data = message.render(
        SETTINGS,
        notification_id=7,
        type_name=type_name,
        label=LABELS[type_name],
        payload={"content_id": CONTENT, **payload},
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
        action="7." + "a" * 32 + ".1790000000." + "b" * 22,
    )
    return data, json.loads(data)


@pytest.mark.parametrize(
    ("type_name", "payload", "title", "body", "button"),
    [
        (
            "video_complete",
            {
                "title": "Why is the sky blue?",
                "video_url": "/media/videos/v.webm",
                "thumbnail_url": "/media/thumbnails/t.svg",
            },
            "Your video is ready: Why is the sky blue?",
            "Tap to watch",  # never blank
            {"action": "watch", "title": "Watch now"},
        ),
        (
            "video_failed",
            {"title": "Why is the sky blue?", "error_message": "The renderer ran out of time."},
            "We couldn't make your video: Why is the sky blue?",
            "The renderer ran out of time.",
            {"action": "retry", "title": "Try again"},
        ),
        (
            "clarification_needed",
            {"question": "Which sky: Earth's or Mars'?"},
            "We need a bit more detail",
            "Which sky: Earth's or Mars'?",
            {"action": "answer", "title": "Answer"},
        ),
    ],
)
def test_a_push_says_what_happened_with_icons_and_its_button(
    type_name: str, payload: dict[str, object], title: str, body: str, button: dict[str, str]
) -> None:
    data, shown = _rich(type_name, payload)
    assert shown["title"] == title
    assert shown["body"] == body
    assert shown["actions"] == [button]
    assert shown["lang"] == "en"
    assert shown["icon"] == "https://notify.example/static/icons/icon-192.png"
    assert shown["badge"] == "https://notify.example/static/icons/badge-96.png"
    # Every button opens the link: the player, or the request's own page (not the app's home).
    page = "videos" if "video_url" in payload else "requests"
    assert shown["link"] == f"https://notify.example/{page}/{CONTENT}"
    assert "app" not in shown
    if "thumbnail_url" in payload:
        assert shown["image"] == "https://notify.example/media/thumbnails/t.svg"
    else:
        assert "image" not in shown
    assert len(data) < 1024  # well under the 4 KB a push service must accept


def test_a_thumbnail_elsewhere_is_shown_only_over_https() -> None:
    _, shown = _rich("video_complete", {"thumbnail_url": "https://cdn.example/t.jpg"})
    assert shown["image"] == "https://cdn.example/t.jpg"
    for unsafe in ("http://cdn.example/t.jpg", "//cdn.example/t.jpg", "javascript:alert(1)"):
        _, shown = _rich("video_complete", {"thumbnail_url": unsafe})
        assert "image" not in shown


def test_an_unknown_type_gets_no_buttons_and_a_huge_thumbnail_is_left_out() -> None:
    data = message.render(
        SETTINGS,
        notification_id=7,
        type_name="course_news",
        label="Course news",
        payload={"title": "x" * 400, "thumbnail_url": "/media/" + "t" * 3900},
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
    )
    shown = json.loads(data)
    assert "actions" not in shown
    assert "image" not in shown  # left out before any text is cut
    assert shown["title"] == ("Course news: " + "x" * 400)[: message.MAX_TITLE_CHARS - 1] + "…"


@pytest.mark.parametrize(
    ("seconds", "body"),
    [(125, "2 min 5 s · Tap to watch"), (120, "2 min · Tap to watch"), (42, "42 s · Tap to watch")],
)
def test_a_ready_videos_push_says_how_long_it_is(seconds: int, body: str) -> None:
    payload = {"title": "Tides", "video_url": "/media/videos/v.webm", "duration_seconds": seconds}
    _, shown = _rich("video_complete", payload)
    assert shown["title"] == "Your video is ready: Tides"
    assert shown["body"] == body


def test_a_clarifications_push_names_what_it_is_about() -> None:
    data = message.render(
        SETTINGS,
        notification_id=7,
        type_name="clarification_needed",
        label=LABELS["clarification_needed"],
        payload={"content_id": CONTENT, "question": "Which sky: Earth's or Mars'?"},
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
        asked="Why is the sky blue?",  # the student's request, read beside it
    )
    shown = json.loads(data)
    assert shown["title"] == "We need a bit more detail: Why is the sky blue?"
    assert shown["body"] == "Which sky: Earth's or Mars'?"
    # Its request's title, when it has one, before what the student asked.
    data = message.render(
        SETTINGS,
        notification_id=7,
        type_name="clarification_needed",
        label=LABELS["clarification_needed"],
        payload={"content_id": CONTENT, "question": "Which sky?"},
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
        request_title="Sky colours",
        asked="Why is the sky blue?",
    )
    assert json.loads(data)["title"] == "We need a bit more detail: Sky colours"
