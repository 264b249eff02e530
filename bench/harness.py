"""What every scenario needs: a fresh database, the server as a real process, tokens, probes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from db import migrate
from db.embedded import start_embedded_postgres
from db.urls import asyncpg_dsn, with_database
from service.auth import mint_token
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


@dataclass
class Server:
    """`vividly-notify serve` as its own process."""

    url: str
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, database_url: str, port: int | None = None, **env: str) -> Server:
        port = port or free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "JWT_SECRET": SECRET,
            "DEV_LOGIN": "false",
            "LOG_LEVEL": "warning",
            "POOL_MAX_SIZE": "20",
            **env,
        }
        log = (OUT / f"server-{port}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=log,
        )
        server = cls(f"http://127.0.0.1:{port}", port, process)
        server.wait_ready()
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
        """SIGTERM and wait; return how long the exit took."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout)
        return time.monotonic() - started


def raise_fd_limit() -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
