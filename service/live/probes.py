"""The listener's probe NOTIFYs, judged: heard, committed and not heard, or not sent.

Knows nothing of connections: the listener (`listener.py`) sends a probe each heartbeat and
tells this what became of it. Guarantees:
- A probe is judged when the next one is due (a heartbeat later): *heard* (its payload came back
  on the listener's connection), *unheard* (its NOTIFY committed through the writers' path and
  did not come back), or neither when it could not be sent (`failed`: the pool exhausted, a
  stall on the NOTIFY commit lock; slowness, not deafness).
- `deaf_streak` counts unheard probes since the last one heard; one heard resets it, a failed
  one leaves it as it was. A late echo of an older probe counts for nothing.
- `reset` forgets the connection's evidence (streak, heard time, the probe in flight) when the
  connection is lost; `last_heard_at` (any connection) and the counters stay.
"""

from __future__ import annotations

import time
import uuid


class Probes:
    """What became of the probes sent on the current connection, and counts of all of them."""

    def __init__(self) -> None:
        self.payload = ""
        self._committed = False  # the current probe's NOTIFY committed
        self._heard = False  # the current probe came back
        self.deaf_streak = 0  # unheard probes in a row
        self.heard_at: float | None = None  # monotonic, on the current connection
        self.last_heard_at: float | None = None  # monotonic, on any connection
        self.error: str | None = None  # why the last send failed; None once one succeeded
        self.heard = 0
        self.unheard = 0
        self.failed = 0

    def next(self) -> str:
        """Judge the probe in flight; return the payload of a new one."""
        if self._committed and not self._heard:
            self.deaf_streak += 1
            self.unheard += 1
        self._committed = self._heard = False
        self.payload = uuid.uuid4().hex
        return self.payload

    def committed(self, payload: str) -> None:
        """The probe with `payload` was sent and its transaction committed."""
        self.error = None
        if payload == self.payload:
            self._committed = True

    def send_failed(self, error: BaseException) -> None:
        """The probe could not be sent (or not within its time)."""
        self.error = type(error).__name__
        self.failed += 1

    def echo(self, payload: str) -> None:
        """`payload` arrived on the probe channel."""
        if payload != self.payload or self._heard:
            return
        self._heard = True
        self.heard_at = self.last_heard_at = time.monotonic()
        self.deaf_streak = 0
        self.heard += 1

    def reset(self) -> None:
        """The connection is gone: what the next one hears must be proven again."""
        self.heard_at = None
        self.deaf_streak = 0
        self._committed = False
