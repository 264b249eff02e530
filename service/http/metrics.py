"""HTTP requests by route: how many, how long, and with what status (every request but the
stream, which bypasses the middleware stack and has the hub's own metrics).

Guarantees: series are labelled by the route's template (`/api/v1/notifications/{id}/read`),
the mount (`/static`) or `unmatched`, by one of the usual methods or `other`, and by the status
code: never by the raw path or anything else a client chooses, so no client can create series.
A request whose handler raises counts as a 500 (that is what the client gets). Nothing is
counted before the lifespan has started (the metrics live in its state).
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# REST calls: a few milliseconds when healthy; the analytics query may take its 10 s timeout.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STATE_KEY = "http_metrics"  # where the lifespan state holds them


class HttpMetrics:
    """`vividly_http_requests_total{route,method,code}` and
    `vividly_http_request_duration_seconds{route,method}`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            "vividly_http_requests",
            "HTTP requests answered (the stream excepted), by route template, method and status.",
            ["route", "method", "code"],
            registry=registry,
        )
        self._duration = Histogram(
            "vividly_http_request_duration_seconds",
            "From a request's arrival to its response sent, by route template and method.",
            ["route", "method"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )

    def observe(self, route: str, method: str, code: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self._requests.labels(route, method, str(code)).inc()
        self._duration.labels(route, method).observe(seconds)


def route_of(scope: Scope, root_path: str) -> str:
    """The template that routed `scope` (after routing), its mount, or `unmatched`."""
    template = getattr(scope.get("route"), "path", None)
    if isinstance(template, str):
        return template
    mounted = str(scope.get("root_path", ""))
    if mounted != root_path and mounted.startswith(root_path):
        return mounted[len(root_path) :]
    return "unmatched"


class RouteMetrics:
    """ASGI middleware counting each HTTP request into the lifespan state's `HttpMetrics`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = scope.get("state", {}).get(STATE_KEY) if scope["type"] == "http" else None
        if not isinstance(metrics, HttpMetrics):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = str(scope.get("root_path", ""))
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            metrics.observe(
                route_of(scope, root_path), scope["method"], status, time.perf_counter() - started
            )
