"""Background tasks: a crash is logged, counted and restarted; shutdown always completes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from service import app as app_module
from service.runtime.supervisor import Supervisor
from tests.support.server import running_server, settings_for
from tests.support.waiting import until


async def test_a_crashing_job_is_logged_counted_and_restarted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(base_delay=0.01)
    runs: list[int] = []
    done = asyncio.Event()

    async def job() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"boom {len(runs)}")
        done.set()

    with caplog.at_level(logging.ERROR, logger="service.runtime.supervisor"):
        supervisor.start("job", job)
        await asyncio.wait_for(done.wait(), 2)
    assert runs == [0, 1, 2]
    assert supervisor.crashes["job"] == 2
    assert supervisor.last_error["job"] == "RuntimeError: boom 2"
    crashes = [r for r in caplog.records if "task job crashed" in r.getMessage()]
    assert len(crashes) == 2
    assert crashes[0].exc_info is not None  # with its traceback
    await supervisor.stop_all()


async def test_stop_waits_for_the_job_then_cancels_it() -> None:
    supervisor = Supervisor()
    finishing = asyncio.Event()
    finished = asyncio.Event()
    cancelled = asyncio.Event()

    async def polite() -> None:
        await finishing.wait()
        finished.set()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    supervisor.start("polite", polite)
    supervisor.start("stubborn", stubborn)
    asyncio.get_running_loop().call_later(0.05, finishing.set)
    await supervisor.stop("polite", grace=5)
    assert finished.is_set()
    await supervisor.stop("stubborn", grace=0.05)
    assert cancelled.is_set()
    assert supervisor.running() == []


async def test_a_job_waiting_to_restart_is_not_restarted_once_stopping() -> None:
    supervisor = Supervisor(base_delay=30)
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1
        raise RuntimeError("boom")

    supervisor.start("job", job)
    await until(lambda: supervisor.crashes["job"], "the job crashed once")
    await asyncio.wait_for(supervisor.stop("job"), 1)  # not after the 30 s backoff
    assert runs == 1


class CrashingWorker:
    def __init__(self) -> None:
        self.stopped = False

    async def run(self) -> None:
        raise RuntimeError("the worker broke")

    def stop(self) -> None:
        self.stopped = True


async def test_the_server_keeps_serving_and_shuts_down_cleanly_when_its_worker_crashes(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = CrashingWorker()

    def create_worker(*_args: Any) -> CrashingWorker:
        return worker

    monkeypatch.setattr(app_module, "create_worker", create_worker)
    async with running_server(settings_for(database_url), with_worker=True) as server:
        async with httpx.AsyncClient(base_url=server.base_url) as client:

            async def crash_counted() -> str:
                text = (await client.get("/metrics")).text
                return text if 'vividly_task_crashes_total{task="worker"}' in text else ""

            metrics = await until(crash_counted, "/metrics counts the worker's crash")
            assert (await client.get("/healthz")).status_code == 200
        pool = server.app.state.hub.source._store._pool
        listener = server.listener
    assert 'vividly_task_crashes_total{task="worker"}' in metrics
    assert worker.stopped
    assert pool._closed
    assert listener._task is not None
    assert listener._task.done()
