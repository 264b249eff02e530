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
