"""A digest of five notifications as the sender reads them (DIGEST_CONTENT rows), for the message
tests and the screenshots: a ready video with a PNG thumbnail, a failure, a clarifying question,
a very long title (its thumbnail an SVG: a placeholder instead), and non-ASCII right-to-left
text."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from service.channels.email import message
from service.channels.email.settings import EmailSettings
from service.settings import Settings

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PUBLIC_URL = "https://notify.example"
OPEN = f"{PUBLIC_URL}/api/v1/digest/open?token=t{{n}}"
UNSUBSCRIBE = f"{PUBLIC_URL}/api/v1/digest/unsubscribe?token=u&x=1"
IDS = [uuid.UUID(int=n) for n in range(1, 6)]
LONG_TITLE = (
    "Why do some stars seem to twinkle while planets shine steadily in the night sky even "
    "though both are very far away from us"
)
RTL_TITLE = "لماذا السماء زرقاء؟"
RTL_QUESTION = "لماذا السماء زرقاء في النهار وحمراء عند الغروب؟"


def settings(**values: Any) -> Settings:
    return Settings(
        **{
            "jwt_secret": "a-test-secret-that-is-long-enough-0123456789",
            "email_from": "Vividly <digest@example.com>",
            "public_url": PUBLIC_URL,
            **values,
        }
    )


def rows() -> list[dict[str, Any]]:
    """Newest first, as DIGEST_CONTENT orders them."""
    video = {"video_url": "/media/videos/v.webm"}
    return [
        {
            "type": "video_complete",
            "label": "Your video is ready",
            "payload": {
                "content_id": str(IDS[0]),
                "title": "Why is the sky blue?",
                "thumbnail_url": f"/media/thumbnails/{IDS[0]}.png",
                **video,
            },
            "question": "why is the sky blue?",
            "created_at": NOW - timedelta(hours=2),
        },
        {
            "type": "video_failed",
            "label": "Your video could not be made",
            "payload": {
                "content_id": str(IDS[1]),
                "title": "How volcanoes erupt",
                "error_message": "The renderer stopped before the end.",
            },
            "question": "How do volcanoes erupt, and why do some of them explode?",
            "created_at": NOW - timedelta(hours=5),
        },
        {
            "type": "clarification_needed",
            "label": "A question about your request",
            "payload": {
                "content_id": str(IDS[2]),
                "question": "What level should the video on 'Photosynthesis' be pitched at?",
            },
            "question": "How do plants make food from light?",
            "created_at": NOW - timedelta(days=1, hours=1),
        },
        {
            "type": "video_complete",
            "label": "Your video is ready",
            "payload": {
                "content_id": str(IDS[3]),
                "title": LONG_TITLE,
                "thumbnail_url": f"/media/thumbnails/{IDS[3]}.svg",
                **video,
            },
            "question": None,
            "created_at": NOW - timedelta(days=2),
        },
        {
            "type": "video_complete",
            "label": "Your video is ready",
            "payload": {
                "content_id": str(IDS[4]),
                "title": RTL_TITLE,
                "thumbnail_url": f"/media/thumbnails/{IDS[4]}.png",
                **video,
            },
            "question": RTL_QUESTION,
            "created_at": NOW - timedelta(days=3, hours=4),
        },
    ]


def items(config: EmailSettings) -> list[message.Item]:
    return [message.item_from_row(row, OPEN.format(n=n), config) for n, row in enumerate(rows(), 1)]


def digest(
    config: EmailSettings | None = None,
    *,
    total: int = 5,
    lang: str | None = None,
    time_zone: str | None = None,
) -> EmailMessage:
    """The built email of the five (of `total` unseen)."""
    config = config or settings()
    return message.build(
        config,
        to="student@example.com",
        items=items(config),
        total=total,
        unsubscribe_url=UNSUBSCRIBE,
        message_uuid=uuid.UUID(int=99),
        date=NOW,
        lang=lang,
        time_zone=time_zone,
    )
