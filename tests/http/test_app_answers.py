"""What the app would have said, made by its own middleware (service/http/app_answers.py)."""

from __future__ import annotations

from starlette.responses import JSONResponse

from service.http import app_answers

ORIGIN = b"https://app.example"


async def test_a_streams_head_from_an_allowed_origin_carries_its_cors_headers() -> None:
    head = dict(await app_answers.stream_head(ORIGIN, [ORIGIN]))
    assert head[b"access-control-allow-origin"] == ORIGIN
    assert head[b"access-control-allow-credentials"] == b"true"
    assert head[b"content-type"].startswith(b"text/event-stream")


async def test_an_answer_has_the_security_headers_and_closes_the_connection() -> None:
    response = JSONResponse({"detail": "busy"}, status_code=503)
    plain = await app_answers.answer(response, None, [], [(b"server", b"uvicorn")])
    head, _, body = plain.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 503 Service Unavailable"
    assert lines[1] == b"server: uvicorn"  # uvicorn's own headers first
    assert b"x-content-type-options: nosniff" in lines
    assert lines[-1] == b"connection: close"
    assert body == b'{"detail":"busy"}'
    crossed = await app_answers.answer(response, ORIGIN, [ORIGIN], [])
    assert b"access-control-allow-origin: " + ORIGIN in crossed.split(b"\r\n\r\n")[0]


async def test_the_client_is_the_peer_unless_a_trusted_proxy_forwarded_another() -> None:
    forwarded = [(b"x-forwarded-for", b"203.0.113.7")]
    trusting = app_answers.proxy_rule("127.0.0.1")
    assert await app_answers.client(forwarded, ("127.0.0.1", 5000), None) == "127.0.0.1:5000"
    assert await app_answers.client(forwarded, ("127.0.0.1", 5000), trusting) == "203.0.113.7:0"
    assert await app_answers.client(forwarded, ("198.51.100.2", 5000), trusting) == (
        "198.51.100.2:5000"
    )
    assert await app_answers.client([], None, trusting) == ""
