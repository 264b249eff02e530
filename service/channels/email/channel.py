"""The email digest as a delivery channel: its routes (preferences, the confirmation, open and
one-click unsubscribe links), and its sender in every `serve` process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter

from ..base import Running
from . import confirm_routes, open_routes, routes
from .sender import CHANNEL as NAME
from .sender import start_digest_sender
from .signed_links import UNSUBSCRIBE_PATH


@dataclass(frozen=True)
class EmailChannel:
    name: str = NAME
    routers: Sequence[APIRouter] = field(
        default=(routes.router, confirm_routes.router, open_routes.router)
    )
    signed_link_paths: Sequence[str] = (UNSUBSCRIBE_PATH,)

    def start(self, running: Running) -> None:
        """Run the sender as the supervised task `digest` when SMTP_HOST is set."""
        start_digest_sender(running.supervisor, running.pool, running.settings, running.reach)


CHANNEL = EmailChannel()
