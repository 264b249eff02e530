"""Stopping on SIGTERM without a reconnect wave, within a budget that fits the platform's grace.

`Server.shutdown` (`server.py`) runs `Shutdown.run` before uvicorn stops listening. Phases:

1. **Not ready**, `SHUTDOWN_UNREADY_SECONDS`: `/readyz` answers 503 ("shutting down") while
   streams are still served, so a load balancer that routes on it stops sending new ones. Web
   Push stops claiming (its sends in flight go on and are recorded: `on_begin`).
2. **Drain**, `SHUTDOWN_DRAIN_SECONDS`: new streams get `event: unavailable` with `retry:`; the
   open ones end spread over the period, each with a spread `retry:` (`drain.py`). Then the
   stream deliveries recorded so far are flushed (`after_drain`).
3. **Requests**, `SHUTDOWN_REQUESTS_SECONDS`: uvicorn closes its sockets and waits for the other
   requests in flight (its `timeout_graceful_shutdown`).
4. **Final**, `FINAL_SECONDS`: the lifespan stops the tasks (a push still in flight gets what is
   left of PUSH_TIMEOUT_SECONDS since SIGTERM), flushes the delivery records again
   (`deliveries.CLOSE_SECONDS`), closes the listener and the pool.

`budget(settings)` adds the phases up (plus what a push in flight may need beyond phases 1-3);
the platform must wait longer than that before it kills: compose's `stop_grace_period` and
Kubernetes' `terminationGracePeriodSeconds` (which also counts a `preStop` hook's time):
docs/deployment.md, tests/deploy/.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ..live.drain import drain
from ..live.hub import Hub
from ..notifications.deliveries import CLOSE_SECONDS
from .settings import OpsSettings

logger = logging.getLogger(__name__)

REASON = "shutdown"
FINAL_SECONDS = CLOSE_SECONDS + 1.0  # the last flush, plus closing tasks, listener and pool
PUSH_MARGIN = 1.0  # beyond PUSH_TIMEOUT_SECONDS: recording a send's outcome


@dataclass(frozen=True, slots=True)
class Budget:
    """Seconds each phase may take after SIGTERM; `total` is what the platform must allow."""

    unready: float
    drain: float
    requests: float
    push: float  # what a push in flight may need beyond the first three phases
    final: float

    @property
    def total(self) -> float:
        return self.unready + self.drain + self.requests + self.push + self.final


class BudgetSettings(Protocol):
    """What the budget reads: the shutdown phases, and Web Push's send timeout (the composed
    settings have both; this package does not import the channel's)."""

    @property
    def shutdown_unready_seconds(self) -> float: ...
    @property
    def shutdown_drain_seconds(self) -> float: ...
    @property
    def shutdown_requests_seconds(self) -> float: ...
    @property
    def push_timeout_seconds(self) -> float: ...
    @property
    def push_enabled(self) -> bool: ...


def budget(settings: BudgetSettings) -> Budget:
    """The shutdown budget of a `serve` process with `settings`."""
    before_final = (
        settings.shutdown_unready_seconds
        + settings.shutdown_drain_seconds
        + settings.shutdown_requests_seconds
    )
    push = settings.push_timeout_seconds + PUSH_MARGIN if settings.push_enabled else 0.0
    return Budget(
        unready=settings.shutdown_unready_seconds,
        drain=settings.shutdown_drain_seconds,
        requests=settings.shutdown_requests_seconds,
        push=max(0.0, push - before_final),
        final=FINAL_SECONDS,
    )


class Shutdown:
    """The phases before uvicorn stops listening; `started` turns `/readyz` to 503."""

    def __init__(self, hub: Hub, settings: OpsSettings) -> None:
        self._hub = hub
        self._settings = settings
        self._started_at: float | None = None
        self._on_begin: list[Callable[[], None]] = []
        self._after_drain: list[Callable[[], Awaitable[object]]] = []

    @property
    def started(self) -> bool:
        return self._started_at is not None

    def elapsed(self) -> float:
        """Seconds since SIGTERM (0 before)."""
        return 0.0 if self._started_at is None else time.monotonic() - self._started_at

    def on_begin(self, callback: Callable[[], None]) -> None:
        """Call `callback` as soon as shutdown starts (e.g. stop claiming new work)."""
        self._on_begin.append(callback)

    def after_drain(self, callback: Callable[[], Awaitable[object]]) -> None:
        """Await `callback` once the streams have been drained (e.g. flush what they recorded)."""
        self._after_drain.append(callback)

    async def run(self) -> None:
        """Phases 1 and 2: not ready, then drain. Idempotent."""
        if self._started_at is not None:
            return
        self._started_at = time.monotonic()
        settings = self._settings
        for begin in self._on_begin:
            begin()
        logger.info(
            "shutting down: not ready for %.1f s, then draining %d streams over %.1f s",
            settings.shutdown_unready_seconds,
            self._hub.stream_count(),
            settings.shutdown_drain_seconds,
        )
        if settings.shutdown_unready_seconds > 0:
            await asyncio.sleep(settings.shutdown_unready_seconds)
        self._hub.suspend(REASON)
        await drain(
            self._hub.open_subscriptions(),
            REASON,
            seconds=settings.shutdown_drain_seconds,
            retry_ms=settings.sse_retry_ms,
        )
        self._hub.close_all(REASON)  # any that slipped in between
        for after in self._after_drain:
            try:
                await after()
            except Exception:  # shutdown goes on whatever a callback does
                logger.exception("shutdown: a callback after the drain failed")
