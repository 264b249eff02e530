"""Web Push as a delivery channel: its routes, and its dispatcher in every `serve` process."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter

from ...ops.shutdown import PUSH_MARGIN
from ..base import Running
from . import routes
from .dispatcher import CHANNEL as NAME
from .dispatcher import Dispatcher
from .sender import Sender
from .settings import PushSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushChannel:
    name: str = NAME
    routers: Sequence[APIRouter] = field(default=(routes.router, routes.worker_router))
    signed_link_paths: Sequence[str] = ()

    def start(self, running: Running) -> None:
        """Run the dispatcher as the supervised task `push` when both VAPID keys are set."""
        settings: PushSettings = running.settings
        if not settings.push_enabled:
            logger.info("Web Push is off: set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY to use it")
            return
        dispatcher = Dispatcher(running.pool, settings, Sender(settings), running.reach)
        running.supervisor.start("push", dispatcher.run, optional=True)
        running.shutdown.on_begin(dispatcher.stop)  # no new claims once SIGTERM came

        async def stop() -> None:
            dispatcher.stop()  # the sends in flight finish and are recorded
            # Within the budget (ops/shutdown.py): what is left of a send's time since SIGTERM.
            left = settings.push_timeout_seconds + PUSH_MARGIN - running.shutdown.elapsed()
            await running.supervisor.stop("push", grace=max(0.0, left))

        running.on_shutdown(stop)
        logger.info("Web Push is on (VAPID subject %s)", settings.vapid_subject)
        if settings.push_allow_loopback:
            logger.warning("PUSH_ALLOW_LOOPBACK is set: pushes may go to this machine")


CHANNEL = PushChannel()
