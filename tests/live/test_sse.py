"""SSE framing against the WHATWG parsing rules."""

from __future__ import annotations

import pytest

from service.live import sse


def test_frame_fields_in_order() -> None:
    assert sse.frame(b'{"a":1}', id=5, event="reset", retry=3000) == (
        b'retry: 3000\nevent: reset\nid: 5\ndata: {"a":1}\n\n'
    )


def test_plain_message() -> None:
    assert sse.frame(b"{}") == b"data: {}\n\n"


@pytest.mark.parametrize("data", [b"a\nb", b"a\rb"])
def test_multiline_data_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="single line"):
        sse.frame(data)


def test_keepalive_is_a_comment() -> None:
    assert sse.KEEPALIVE.startswith(b":")
    assert sse.KEEPALIVE.endswith(b"\n\n")


def test_progress_and_displaced_are_named_without_id_or_type() -> None:
    from service.live import events

    progress = events.progress_event(
        {
            "event": "progress",
            "type": "x",
            "content_id": "c",
            "status": "processing",
            "stage": "tts",
        }
    )
    assert progress.id is None  # never moves Last-Event-ID, never replayed
    assert progress.frame == (
        b'event: progress\ndata: {"content_id":"c","status":"processing","stage":"tts"}\n\n'
    )
    displaced = events.displaced_frame(600_000)
    assert displaced.startswith(b"retry: 600000\nevent: displaced\ndata: {")
    assert b"id:" not in displaced
    assert b'"type"' not in displaced
