"""Structured logs: one JSON object per line on stderr, the service's and uvicorn's alike.

Guarantees (once `configure` ran, as every `vividly-notify` command does):
- Every record, uvicorn's access and error logs included, is one JSON line with `time` (UTC),
  `level`, `logger` and `message`, the record's extra fields, and while a request is handled
  its `request_id` (the proxy's `X-Request-ID` when it is a plain token, else a new one) and,
  once authenticated, its `user_id`.
- No credential is written: nothing logs headers or cookies, access lines redact token-like
  query parameters, and as a last line of defence anything shaped like a JWT, a `Bearer`
  credential or an `access_token=` value is replaced by `[redacted]` in every line.
- No email address is written: anything shaped like one (`@` or a URL-encoded `%40`), such as
  an SMTP server's refusal quoting a student's address, becomes `[email]` in every line.
- A stream dropped because its client cannot keep up is logged once, at INFO, with the reason
  (`stream_dropped`). uvicorn's "ASGI callable returned without completing response" ERROR is
  not written for a response left unfinished on purpose (`response_abandoned`: the client is
  stuck or gone); for any other request it still is.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

# What this request's lines carry. A dict, mutated in place: a sync dependency runs in a worker
# thread with a copy of the context, and the dict is the one thing both copies share.
_request: ContextVar[dict[str, Any] | None] = ContextVar("vividly_request", default=None)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# What is redacted, each with the text (case-folded) a line must contain for it to match: a
# pattern is run only on lines containing one, since running all five on every line was
# three-quarters of an access line's cost, and every stream's connect writes one (issue 25).
_SECRETS = [
    (
        ("eyj",),
        re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
        "[redacted]",
    ),  # JWTs
    (("bearer",), re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), r"\1[redacted]"),
    (("access_token=",), re.compile(r"(?i)(access_token=)[^\s\"',;&]+"), r"\1[redacted]"),
    # A clicked push's action token sits in the path: a capability for as long as the push TTL.
    (
        ("/api/v1/push/actions/",),
        re.compile(r"(/api/v1/push/actions/)[^/\s\"'?]+"),
        r"\1[redacted]",
    ),
    # Email addresses (personal data): SMTP replies quote them, query strings may carry them.
    (("@", "%40"), re.compile(r"[\w.%+'-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+"), "[email]"),
]
_SECRET_PARAMETERS = re.compile(r"(?i)token|auth|secret|password|key|code|session|cookie")
_DROPPED_RESPONSE = "ASGI callable returned without completing response"
_ACCESS_ARGS = 5  # uvicorn's access line: client, method, path with query, HTTP version, status


class RequestContext:
    """ASGI middleware giving each HTTP request a `request_id` for its log lines.

    A plain callable that returns the inner app's awaitable: it sets the context and keeps no
    frame of its own alive for the hours an idle stream lasts.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] == "http":
            start_request(scope["headers"])
        return self.app(scope, receive, send)


def start_request(headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Give the request with these (lower-cased) headers its `request_id`, in the current
    context: the client's `X-Request-ID` when it is a sane one, else a new one."""
    given = b""
    for name, value in headers:
        if name == b"x-request-id":
            given = value  # the last one, as a dict of the headers would keep
    text = given.decode("latin-1")
    # 16 random bytes in hex, as `uuid4().hex` without building a UUID (on every connect).
    request_id = text if _REQUEST_ID.fullmatch(text) else os.urandom(16).hex()
    _request.set({"request_id": request_id})


def request_id() -> str | None:
    """This request's id (the one its log lines carry), if a request is being handled."""
    context = _request.get()
    return None if context is None else str(context["request_id"])


def bind_user(user_id: uuid.UUID) -> None:
    """Name the authenticated user on the rest of this request's lines."""
    context = _request.get()
    if context is not None:
        # A string, not the UUID: a dict of strings only is left out of the cyclic GC's scans,
        # and one of these lives as long as each stream (bench/RESULTS.md, GC pauses).
        context["user_id"] = str(user_id)


def response_abandoned() -> None:
    """This request's response is left unfinished on purpose (its client is stuck or gone):
    uvicorn closing the connection is not an error to log."""
    context = _request.get()
    if context is not None:
        context["dropped"] = True


def stream_dropped(user_id: uuid.UUID, reason: str) -> None:
    """Log, once per stream, that it was dropped because its client could not keep up."""
    logger.info(
        "stream dropped: the client could not keep up",
        extra={"reason": reason, "user_id": str(user_id)},
    )


class _RequestFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _request.get()
        if context is not None:
            if context.get("dropped") and str(record.msg).startswith(_DROPPED_RESPONSE):
                return False
            record.request_id = context["request_id"]
            if "user_id" in context and not hasattr(record, "user_id"):
                record.user_id = context["user_id"]
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            _structure_access(record, record.args)
        return True


def _structure_access(record: logging.LogRecord, args: tuple[Any, ...]) -> None:
    if len(args) != _ACCESS_ARGS:
        return
    client, method, full_path, http_version, status = args
    path, _, query = str(full_path).partition("?")
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        safe = [(k, "[redacted]" if _SECRET_PARAMETERS.search(k) else v) for k, v in pairs]
        path = f"{path}?{urlencode(safe)}"
    record.msg, record.args = "%s %s %s", (method, path, status)
    record.client, record.method, record.path = client, method, path
    record.status, record.http_version = status, http_version


def redact(line: str) -> str:
    """`line` without anything shaped like a credential (JWTs, Bearer values, tokens) or an
    email address."""
    # `casefold`: whatever `(?i)` matches contains the lower-case text (the long s, the Kelvin
    # sign included), so no match is skipped.
    folded = line.casefold()
    for needles, pattern, replacement in _SECRETS:
        for needle in needles:
            if needle in folded:
                line = pattern.sub(replacement, line)
                break
    return line


class _Formatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def formatter() -> logging.Formatter:
    """The JSON formatter of every line, redaction included."""
    return _Formatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        # uvicorn adds a copy of some messages with terminal colours.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def configure(level: str = "info") -> None:
    """Send every log record, uvicorn's included, to stderr as JSON lines at `level`."""
    # No line shows where a call was made, or which thread or process made it: not looked up
    # (the standard library's own switches; the caller's frame alone was a sixth of a line).
    # `stack_info=True` is not collected either: nothing here asks for it.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter())
    handler.addFilter(_RequestFields())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
