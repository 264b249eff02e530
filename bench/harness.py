"""What every scenario needs: a fresh database, the server as a real process, tokens, probes."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from db import migrate
from db.embedded import start_embedded_postgres
from db.urls import asyncpg_dsn, with_database
from service.http.auth import mint_token
from service.live.listener import APPLICATION_NAME as LISTENER_NAME
from service.settings import Settings

SECRET = "bench-secret-bench-secret-bench-secret"
OUT = Path(__file__).resolve().parent / "out"


def fresh_database() -> str:
    """A new embedded Postgres in a temporary directory, migrated; or BENCH_DATABASE_URL."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    if configured:
        url = configured
    else:
        data = Path(tempfile.mkdtemp(prefix="vividly-bench-")) / "pg"
        url = start_embedded_postgres(data, delete_on_exit=True)
    name = f"bench_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    asyncio.run(create())
    database = with_database(url, name)
    migrate.upgrade(database)
    return database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tokens(users: list[uuid.UUID]) -> list[str]:
    settings = Settings(jwt_secret=SECRET)  # type: ignore[arg-type]
    return [mint_token(user, settings) for user in users]


def token_source(user: uuid.UUID, ttl: float) -> Callable[[], str]:
    """New tokens of `user` (a client that renews its session), each valid for `ttl` seconds
    ± 50 %, so that some streams end by the token's expiry and some by their maximum age."""
    settings = Settings(jwt_secret=SECRET)  # type: ignore[arg-type]
    return lambda: mint_token(user, settings, ttl=timedelta(seconds=ttl * random.uniform(0.5, 1.5)))


@dataclass
class Server:
    """`vividly-notify serve` as its own process."""

    url: str
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(
        cls,
        database_url: str,
        port: int | None = None,
        env: dict[str, str] | None = None,
        *,
        ready_within: float = 60,
    ) -> Server:
        port = port or free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "JWT_SECRET": SECRET,
            "DEV_LOGIN": "false",
            "LOG_LEVEL": "warning",
            "POOL_MAX_SIZE": "20",
            # Extra server environment for experiments (e.g. a probe on PYTHONPATH).
            **json.loads(os.environ.get("BENCH_SERVER_ENV", "{}")),
            **(env or {}),
        }
        log = (OUT / f"server-{port}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            # Another checkout's server under the same harness (A/B of two commits).
            cwd=os.environ.get("BENCH_SERVER_DIR"),
            env=environment,
            stdout=log,
            stderr=log,
        )
        server = cls(f"http://127.0.0.1:{port}", port, process)
        try:
            server.wait_ready(ready_within)
        except RuntimeError:
            process.kill()
            raise
        return server

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited during start-up")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become ready")

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert match
        return int(match.group(1))

    async def metrics(self) -> dict[str, float]:
        async with httpx.AsyncClient(timeout=30) as client:
            text = (await client.get(self.url + "/metrics")).text
        values: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def stop(self, timeout: float = 30) -> float:
        """SIGTERM and wait (SIGKILL after `timeout`); return how long the exit took."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.monotonic() - started


def raise_fd_limit(wanted: int = 65_536) -> None:
    """Open-file limit up to `wanted` (the hard limit too when allowed, e.g. as root).

    The server processes inherit it: 20,000 streams need more than 20,000 descriptors.
    """
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, wanted), max(hard, wanted)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def gc_pauses(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Collections between two `/metrics` scrapes, from `vividly_gc_pause_seconds`.

    Per generation: how many, how many over 20 ms, and the bound of the slowest one (the
    smallest histogram bucket holding every pause).
    """
    prefix = "vividly_gc_pause_seconds_bucket{"
    buckets: dict[str, dict[float, float]] = {}
    for name, value in after.items():
        if not name.startswith(prefix):
            continue
        labels = dict(
            part.split("=", 1) for part in name[len(prefix) : -1].replace('"', "").split(",")
        )
        le = float(labels["le"])
        buckets.setdefault(labels["generation"], {})[le] = value - before.get(name, 0.0)
    result: dict[str, Any] = {}
    for generation, counts in sorted(buckets.items()):
        total = counts[float("inf")]
        if not total:
            continue
        slowest = min(le for le, count in counts.items() if count == total)
        result[f"gen{generation}"] = {
            "collections": int(total),
            "over_20ms": int(total - counts.get(0.02, 0.0)),
            "slowest_le_s": slowest,
        }
    return result


def latency_bounds(
    name: str, before: list[dict[str, float]], after: list[dict[str, float]]
) -> dict[str, float | str | None]:
    """The histogram `name` (seconds) of several servers between two scrapes of each, added
    up: for p50, p99 and the maximum, the upper bound in ms of the bucket that holds it (a
    histogram says no more); None when nothing was observed, "+Inf" past the last bucket (a
    string: JSON has no infinity)."""
    prefix = name + "_bucket{le="
    counts: dict[float, float] = {}
    for earlier, later in zip(before, after, strict=True):
        for key, value in later.items():
            if key.startswith(prefix):
                le = float(key[len(prefix) :].strip('"}'))
                counts[le] = counts.get(le, 0.0) + value - earlier.get(key, 0.0)
    total = counts.get(float("inf"), 0.0)
    result: dict[str, float | str | None] = {}
    for label, share in (("p50", 0.50), ("p99", 0.99), ("max", 1.0)):
        reached = [le for le, count in counts.items() if total and count >= share * total]
        if not reached:
            result[f"{label}_le_ms"] = None
        elif min(reached) == float("inf"):
            result[f"{label}_le_ms"] = "+Inf"
        else:
            result[f"{label}_le_ms"] = min(reached) * 1000
    return result


async def postgres_cpu_by_role(database_url: str) -> dict[str, float]:
    """CPU seconds used so far by the Postgres server of `database_url`, by what each of its
    processes is (the difference of two readings says who spent a window's CPU). Read from
    /proc: the server must run on this machine (the embedded one does).
    - `listeners`: the listeners' backends (LISTEN, NOTIFY delivery);
    - `queries`: every other client backend: the servers' pools (the feed's reads, the
      first-delivery UPDATEs) and the harness's own few;
    - the background processes by `backend_type` (`walwriter`, `autovacuum worker`, ...);
    - `exited`: children that ended (the postmaster's cutime/cstime): in `fleet`, mostly the
      writers' backends (the completions' UPDATE, its trigger's INSERT and NOTIFY, the commit),
      which end with the window, but also any other process that ended in it (an autovacuum
      worker), whose CPU before the window then shows as a negative amount under its own role;
    - `postmaster`, and `other` for children Postgres does not list.
    """
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        data_directory = await connection.fetchval("SHOW data_directory")
        activity = await connection.fetch(
            "SELECT pid, backend_type, application_name FROM pg_stat_activity"
        )
    finally:
        await connection.close()
    roles = {row["pid"]: _role(row["backend_type"], row["application_name"]) for row in activity}
    postmaster = int((Path(data_directory) / "postmaster.pid").read_text().split()[0])
    ticks = os.sysconf("SC_CLK_TCK")
    by_role: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # After the command's closing parenthesis: state, ppid, ... utime (12), stime (13).
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        if pid == postmaster:
            by_role["postmaster"] = (int(fields[11]) + int(fields[12])) / ticks
            by_role["exited"] = (int(fields[13]) + int(fields[14])) / ticks
        elif int(fields[1]) == postmaster:
            role = roles.get(pid, "other")
            by_role[role] = by_role.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return by_role


def _role(backend_type: str | None, application_name: str | None) -> str:
    if backend_type != "client backend":
        return backend_type or "other"
    if application_name == LISTENER_NAME:
        return "listeners"
    return "queries"
