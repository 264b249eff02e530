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
    settings = Settings(public_url="https://notify.example")
    payload = {"title": "😀" * 3000, "video_url": "/media/" + "v" * 3000 + ".webm"}
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
    assert shown["link"].endswith("v.webm")  # the link is never cut: a cut link goes nowhere
    assert 0 < len(shown["body"]) < 400
    assert shown["body"].endswith("…")
