"""How full a process's asyncpg pool is, read at each scrape: its size, its connections in use,
its limit, and how many callers wait for a connection.

`vividly_pool_waiting` above zero for long means POOL_MAX_SIZE (or the database's
`max_connections`) is what requests queue on. asyncpg has no public count of waiters or of
connections handed out: both are read from the pool's queue of connection holders (one per
possible connection), whose getters are the waiting callers (asyncpg 0.32, `Pool._queue`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


def waiting(pool: asyncpg.Pool) -> int:
    """Callers blocked in `acquire` on `pool` right now."""
    queue: asyncio.Queue[object] = pool._queue
    getters = getattr(queue, "_getters", ())
    return sum(1 for getter in getters if not getter.done())


def in_use(pool: asyncpg.Pool) -> int:
    """Connections of `pool` handed out right now (acquired, or being opened for a caller)."""
    queue: asyncio.Queue[object] = pool._queue
    return int(pool.get_max_size()) - queue.qsize()


class PoolCollector(Collector):
    """`vividly_pool_*` gauges of one pool, labelled with what the pool is for."""

    def __init__(self, pool: asyncpg.Pool, name: str) -> None:
        self._pool = pool
        self._name = name

    def collect(self) -> Iterator[Metric]:
        pool, labels = self._pool, [self._name]
        for metric, text, value in (
            ("vividly_pool_size", "Open connections of the pool.", pool.get_size()),
            ("vividly_pool_in_use", "Connections handed out to callers.", in_use(pool)),
            ("vividly_pool_max_size", "The pool's limit (POOL_MAX_SIZE).", pool.get_max_size()),
            ("vividly_pool_waiting", "Callers waiting for a connection.", waiting(pool)),
        ):
            family = GaugeMetricFamily(metric, text, labels=["pool"])
            family.add_metric(labels, value)
            yield family
