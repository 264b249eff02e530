"""The absolute form of a notification's link (pushes, emails): VIDEO_LINK_TEMPLATE only for
the ready video; every other subject is its page on PUBLIC_URL."""

from __future__ import annotations

from service.notifications.links import notification_link
from service.settings import Settings

CONTENT = "0b7e5a3c-2f1d-4c8e-a9b0-1c2d3e4f5a6b"
READY = {"content_id": CONTENT, "video_url": "/media/videos/v.webm"}
FAILED = {"content_id": CONTENT, "error_message": "The renderer ran out of time."}
WAITING = {"content_id": CONTENT, "question": "Which sky?"}
PLAIN = Settings(public_url="https://notify.example")
TEMPLATED = Settings(
    public_url="https://notify.example",
    video_link_template="https://app.example/watch/{content_id}",
)


def test_without_a_template_every_link_is_the_subjects_page_in_the_app() -> None:
    assert notification_link(PLAIN, READY) == f"https://notify.example/videos/{CONTENT}"
    assert notification_link(PLAIN, FAILED) == f"https://notify.example/requests/{CONTENT}"
    assert notification_link(PLAIN, WAITING) == f"https://notify.example/requests/{CONTENT}"
    assert notification_link(PLAIN, {"title": "Hi"}) == "https://notify.example/"
    assert notification_link(PLAIN, None) == "https://notify.example/"


def test_the_template_is_for_the_ready_video_only() -> None:
    assert notification_link(TEMPLATED, READY) == f"https://app.example/watch/{CONTENT}"
    # A failed or waiting request has no video page: its request's page here, never the template.
    assert notification_link(TEMPLATED, FAILED) == f"https://notify.example/requests/{CONTENT}"
    assert notification_link(TEMPLATED, WAITING) == f"https://notify.example/requests/{CONTENT}"
    assert notification_link(TEMPLATED, {"video_url": "/v.webm"}) == "https://notify.example/"
