"""The process's background tasks (feed, retention, worker), watched.

Guarantees:
- A task that raises is logged with its traceback, counted in `crashes` (exported as
  `vividly_task_crashes_total`), and restarted after a jittered exponential backoff
  (`BASE_DELAY` doubling to `MAX_DELAY`, reset once a run has lasted `STABLE_AFTER`): the
  process keeps serving, and operators see the crash in the log and the metric.
- A task is started as required (the process cannot deliver without it: feed, wheel,
  admission) or `optional` (digest, push, retention, deliveries, gc, worker). `problems` names
  the required ones that are not running or wait out a backoff (a 503 on `/readyz`);
  `warnings` the optional ones (a 200 with warnings: one optional task restarting must never
  take a replica out of the load balancer).
- `stop` ends one task: it awaits the task (which the caller has asked to finish, e.g.
  `Worker.stop()`) for up to `grace` seconds, then cancels it. `stop_all` cancels the rest.
  Neither raises: a task's failure never prevents the rest of shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

BASE_DELAY = 1.0
MAX_DELAY = 60.0
STABLE_AFTER = 60.0

Job = Callable[[], Awaitable[None]]


class Supervisor:
    """Runs named jobs as tasks, restarting the ones that crash."""

    def __init__(self, *, base_delay: float = BASE_DELAY) -> None:
        self._base_delay = base_delay
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping: dict[str, asyncio.Event] = {}
        self.crashes: Counter[str] = Counter()
        self.last_error: dict[str, str] = {}
        self._restarting: set[str] = set()  # crashed, waiting out the backoff
        self._optional: set[str] = set()

    def start(self, name: str, job: Job, *, optional: bool = False) -> None:
        """Run `job` as task `name` until it returns, restarting it whenever it raises;
        `optional`: its trouble is a warning, not a problem."""
        if name in self._tasks:
            raise ValueError(f"task {name!r} already runs")
        if optional:
            self._optional.add(name)
        self._stopping[name] = asyncio.Event()
        self._tasks[name] = asyncio.create_task(self._watch(name, job), name=f"vividly-{name}")

    def running(self) -> list[str]:
        """Names of the tasks that are still running."""
        return [name for name, task in self._tasks.items() if not task.done()]

    def problems(self) -> list[str]:
        """What is wrong with the required tasks: ended, or crashed and not yet restarted."""
        return self._trouble(optional=False)

    def warnings(self) -> list[str]:
        """What is wrong with the optional tasks: ended, or crashed and not yet restarted."""
        return self._trouble(optional=True)

    def troubled(self) -> dict[str, bool]:
        """Tasks ended or waiting out a backoff: name -> whether the task is optional."""
        return {
            name: name in self._optional
            for name, task in self._tasks.items()
            if task.done() or name in self._restarting
        }

    def _trouble(self, *, optional: bool) -> list[str]:
        found = []
        for name, task in self._tasks.items():
            if (name in self._optional) != optional:
                continue
            if task.done():
                found.append(f"task {name}: not running")
            elif name in self._restarting:
                found.append(f"task {name}: crashed ({self.last_error[name]}), restarting")
        return found

    async def _watch(self, name: str, job: Job) -> None:
        failures = 0
        while True:
            started = time.monotonic()
            self._restarting.discard(name)
            try:
                await job()
                return
            except Exception as error:
                self._restarting.add(name)
                self.crashes[name] += 1
                self.last_error[name] = f"{type(error).__name__}: {error}"
                if time.monotonic() - started >= STABLE_AFTER:
                    failures = 0
                delay = min(MAX_DELAY, self._base_delay * 2**failures)
                delay = random.uniform(delay / 2, delay)
                failures += 1
                logger.exception("task %s crashed; restarting in %.1f s", name, delay)
                stopping = self._stopping[name]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), delay)
                if stopping.is_set():
                    return  # not restarted while stopping

    async def stop(self, name: str, *, grace: float | None = None) -> None:
        """Wait up to `grace` seconds (None: no limit) for task `name` to end, then cancel it."""
        task = self._tasks.pop(name, None)
        if task is None:
            return
        self._stopping.pop(name).set()
        if grace is None or grace > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def stop_all(self) -> None:
        """Cancel every remaining task and wait for them to end."""
        for name in list(self._tasks):
            await self.stop(name, grace=0)
