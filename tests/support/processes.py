"""`vividly-notify` as a real process: the command line, waiting for `/healthz`, a served app."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.support.ports import free_port
from tests.support.server import SECRET

COMMAND = [sys.executable, "-m", "service"]


def wait_healthy(
    base: str, process: subprocess.Popen[bytes], timeout: float = 30
) -> httpx.Response:
    """The first answer of `base/healthz`; fails if the process exits or nothing answers in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            response = httpx.get(f"{base}/healthz", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        return response
    raise AssertionError("server did not answer /healthz in time")


@contextmanager
def serve_process(
    database_url: str, *, dev_login: bool = False, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`vividly-notify serve` on a free port until the block ends: (base URL, process)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": SECRET,
        "LOG_LEVEL": "warning",
        "DEV_LOGIN": "true" if dev_login else "false",
        # Stopping need not wait for load balancers nor spread reconnects, unless a test says.
        "SHUTDOWN_UNREADY_SECONDS": "0",
        "SHUTDOWN_DRAIN_SECONDS": "0",
        **(env or {}),
    }
    process = subprocess.Popen([*COMMAND, "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "server exited early"
            assert time.monotonic() < deadline, "server did not start"
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(20)
