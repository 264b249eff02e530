"""What a delivery channel is: the seam each channel package plugs into.

A channel is how a notification reaches a student who has no open stream (the live core's own
channel, `stream`). Each is a package under `service/channels/` with its settings, routes, SQL
and background work, exposing one `Channel` in its `channel.py`. The application knows channels
only through `registry.CHANNELS`: it includes their routers and starts each in every `serve`
process. Guarantees of the seam:
- `name` is said once per channel: it is what `notifications.delivered_via` stores (the schema's
  CHECK lists the same names: a new channel comes with a migration), what metrics label and
  what analytics group by.
- `start` runs once per process, during start-up; a channel that is off (not configured) says so
  in the log and starts nothing. What it starts it supervises and stops itself, through
  `Running.supervisor` and `Running.on_shutdown` (run in reverse order, before the pool closes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from fastapi import APIRouter

from ..notifications.deliveries import ReachCounts
from ..ops.shutdown import Shutdown
from ..runtime.supervisor import Supervisor


@dataclass(frozen=True, slots=True)
class Running:
    """What a starting channel may use in this process."""

    pool: asyncpg.Pool
    settings: Any  # the process's settings: a channel reads them as its own settings class
    supervisor: Supervisor
    reach: ReachCounts  # counted for /metrics: first deliveries, attempts by outcome
    on_shutdown: Callable[[Callable[[], Awaitable[None]]], Any]
    shutdown: Shutdown  # SIGTERM's phases: `on_begin` (stop claiming new work), `elapsed()`


class Channel(Protocol):
    """One delivery channel."""

    @property
    def name(self) -> str: ...

    @property
    def routers(self) -> Sequence[APIRouter]: ...

    @property
    def signed_link_paths(self) -> Sequence[str]:
        """Paths authorised by a signed token in the URL that another site may POST to (an
        email's one-click unsubscribe): exempt from the cross-site refusal."""
        ...

    def start(self, running: Running) -> None: ...
