"""How far behind the push dispatcher and the digest sender are, read from the tables at each
scrape: `vividly_push_backlog_age_seconds` and `vividly_digest_backlog_age_seconds`, the seconds
since the oldest push or digest that is due (to be made, sent or retried) became due; 0 when
none waits, NaN when the database did not answer. The tables are shared, so every process
reports the same figure: alert on the max. A gauge exists only while its feature is on (an
unsent backlog with SMTP_HOST unset is not a backlog).
"""

from __future__ import annotations

import asyncio
import math

import asyncpg
from prometheus_client import CollectorRegistry, Gauge

from .email import sql as email_sql
from .push import sql as push_sql

TIMEOUT = 2.0


class BacklogMetrics:
    """The backlog gauges of the features that are on; `refresh` reads them."""

    def __init__(self, registry: CollectorRegistry, *, push: bool, digest: bool) -> None:
        self._gauges: list[tuple[Gauge, str]] = []
        if push:
            gauge = Gauge(
                "vividly_push_backlog_age_seconds",
                "Seconds since the oldest due push (not yet taken by a dispatcher) became due.",
                registry=registry,
            )
            self._gauges.append((gauge, push_sql.PUSH_BACKLOG_AGE))
        if digest:
            gauge = Gauge(
                "vividly_digest_backlog_age_seconds",
                "Seconds since the oldest digest due to be made, sent or retried became due.",
                registry=registry,
            )
            self._gauges.append((gauge, email_sql.DIGEST_BACKLOG_AGE))

    async def refresh(self, pool: asyncpg.Pool) -> None:
        """Read each gauge's age from the database (called by each scrape)."""
        for gauge, query in self._gauges:
            try:
                async with asyncio.timeout(TIMEOUT):
                    age = await pool.fetchval(query)
            except Exception:  # a scrape must answer even when the database does not
                age = math.nan
            gauge.set(age)
