"""The worker loop: claim, run the pipeline under a lease, commit the final status.

Guarantees:
- Claims use `FOR UPDATE SKIP LOCKED`: concurrent workers (processes) never take the same
  request; every later write is guarded by `claimed_by`, so a worker that lost its lease (it
  stalled past the lease and another worker took over) changes nothing.
- A request left in `processing` by a dead worker is claimed again once its lease expires; after
  `max_attempts` claims it ends in `failed` instead of killing workers forever.
- Any exception from the pipeline ends the request in `failed`: it is never left stuck. The
  student sees only `FAILURE_TEXT`; what went wrong is logged with the request id.
- Stopping (SIGTERM) lets the current job finish within the grace period, else releases it
  back to `pending` (uncounted) for another worker.
- The worker never calls notification code: the final UPDATE fires the trigger, which is the
  whole notify path. The stage the pipeline reports is stored on the request (its trigger tells
  the student live, migration 0017) under the same claim guard; a failure to store it is logged
  and the job goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass

import asyncpg

from db.pool import connect, set_keepalives

from . import sql
from .pipeline import Clarification, Job, Pipeline, Progress, StageFailed, Video

logger = logging.getLogger(__name__)

PENDING_CHANNEL = "content_requests:pending"
# All a student is told about a failure: internal errors (stage names, ffmpeg's stderr, exception
# text) belong in the log.
FAILURE_TEXT = "We couldn't make this video. Try again."
PROGRESS_TIMEOUT = 2.0  # a stage report waits no longer for the database: the job goes on


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    lease_seconds: float
    poll_seconds: float
    max_attempts: int
    shutdown_grace_seconds: float
    concurrency: int = 1
    tcp_timeout: float = 30.0  # its LISTEN connection's keepalives (db/pool.py)


class Worker:
    """One worker process's loop: `config.concurrency` jobs at a time, sharing one LISTEN."""

    def __init__(
        self, listen_url: str, pool: asyncpg.Pool, pipeline: Pipeline, config: WorkerConfig
    ) -> None:
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._url = listen_url  # only for LISTEN (one direct connection); the rest uses `pool`
        self._pool = pool
        self._pipeline = pipeline
        self._config = config
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._listening = asyncio.Lock()
        self.processed = 0

    def stop(self) -> None:
        """Finish (or release) the current job, then return from `run`."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Work until `stop()`."""
        logger.info("worker %s started (%d at a time)", self.name, self._config.concurrency)
        try:
            async with asyncio.TaskGroup() as slots:
                for slot in range(self._config.concurrency):
                    slots.create_task(self._work(), name=f"worker-slot-{slot}")
        finally:
            if self._listener is not None:
                await self._listener.close()
            logger.info("worker %s stopped after %d jobs", self.name, self.processed)

    async def _work(self) -> None:
        while not self._stopping.is_set():
            async with self._listening:
                await self._ensure_listening()
            job = await self._claim()
            if job is None:
                await self._idle()
                continue
            if self._stopping.is_set():
                # Told to stop while claiming: hand it straight back.
                await self._pool.execute(sql.RELEASE, job.id, self.name)
                break
            try:
                await self._process(job)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                # The claim stays leased; once the lease runs out the job is taken again.
                logger.warning("worker %s lost the database mid-job (%s)", self.name, error)
                await self._idle()

    # -- waiting for work ---------------------------------------------------------------------

    async def _ensure_listening(self) -> None:
        # NOTIFY is only a wake-up; polling finds work even while this connection is down.
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            self._listener = await connect(self._url, timeout=self._config.poll_seconds)
            await set_keepalives(self._listener, self._config.tcp_timeout)
            await self._listener.add_listener(PENDING_CHANNEL, lambda *_: self._wake.set())
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            logger.warning("worker cannot LISTEN (%s); polling", error)
            self._listener = None

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._config.poll_seconds):
                await self._wake.wait()
        self._wake.clear()

    async def _claim(self) -> Job | None:
        try:
            row = await self._pool.fetchrow(sql.CLAIM, self.name, self._config.lease_seconds)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("claim failed (%s); retrying", error)
            return None
        if row is None:
            return None
        return Job(
            id=row["id"],
            student_id=row["student_id"],
            question=row["question"] or "",
            clarification_question=row["clarification_question"],
            clarification_answer=row["clarification_answer"],
            attempt=row["attempts"],
        )

    # -- one job ------------------------------------------------------------------------------

    async def _process(self, job: Job) -> None:
        if job.attempt > self._config.max_attempts:
            logger.error(
                "request %s failed: gave up after %d attempts (the worker stopped mid-job each "
                "time)",
                job.id,
                job.attempt - 1,
            )
            await self._finish(sql.FINISH_FAILED, job, FAILURE_TEXT, None)
            return
        logger.info("worker %s processing %s (attempt %d)", self.name, job.id, job.attempt)
        work = asyncio.create_task(
            self._pipeline.run(job, self._progress_of(job)), name=f"pipeline-{job.id}"
        )
        lease = asyncio.create_task(self._keep_lease(job, work), name=f"lease-{job.id}")
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                # Stopping: give the job its grace period, then hand it back.
                await asyncio.wait({work}, timeout=self._config.shutdown_grace_seconds)
            if not work.done():
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work
                await self._pool.execute(sql.RELEASE, job.id, self.name)
                logger.info("worker %s released %s", self.name, job.id)
                return
            await self._record(job, work)
        finally:
            lease.cancel()
            stopping.cancel()

    def _progress_of(self, job: Job) -> Progress:
        async def progress(stage: str) -> None:
            try:
                async with asyncio.timeout(PROGRESS_TIMEOUT):
                    await self._pool.execute(sql.SET_STAGE, job.id, self.name, stage)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                logger.warning("request %s: stage %r not stored (%r)", job.id, stage, error)

        return progress

    async def _keep_lease(self, job: Job, work: asyncio.Task[object]) -> None:
        while True:
            await asyncio.sleep(self._config.lease_seconds / 3)
            try:
                status = await self._pool.execute(
                    sql.RENEW_LEASE, job.id, self.name, self._config.lease_seconds
                )
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                logger.warning("lease renewal failed for %s: %s", job.id, error)
                continue
            if status.endswith(" 0"):
                logger.warning("worker %s lost the lease of %s; abandoning it", self.name, job.id)
                work.cancel()
                return

    async def _record(self, job: Job, work: asyncio.Task[object]) -> None:
        if work.cancelled():
            return  # the lease was lost: another worker owns the request now
        error = work.exception()
        if isinstance(error, StageFailed):
            logger.warning("request %s failed: %s", job.id, error)
            await self._finish(sql.FINISH_FAILED, job, FAILURE_TEXT, error.title)
        elif error is not None:
            logger.error("request %s failed: the pipeline crashed", job.id, exc_info=error)
            await self._finish(sql.FINISH_FAILED, job, FAILURE_TEXT, None)
        else:
            outcome = work.result()
            if isinstance(outcome, Video):
                await self._finish(
                    sql.FINISH_COMPLETED,
                    job,
                    outcome.title,
                    outcome.video_url,
                    outcome.thumbnail_url,
                    outcome.duration_seconds,
                )
            elif isinstance(outcome, Clarification):
                await self._finish(sql.FINISH_CLARIFICATION, job, outcome.question)
            else:
                logger.error("request %s failed: the pipeline returned %r", job.id, outcome)
                await self._finish(sql.FINISH_FAILED, job, FAILURE_TEXT, None)

    async def _finish(self, sql: str, job: Job, *values: object) -> None:
        # The one write that notifies: the trigger turns it into a notification + NOTIFY.
        status = await self._pool.execute(sql, job.id, self.name, *values)
        if status.endswith(" 0"):
            logger.warning("worker %s no longer owns %s; result dropped", self.name, job.id)
            return
        self.processed += 1
