"""The running container stack (`make stack`), seen from the host as its users and its operator.

Everything goes through the proxy on http://127.0.0.1:8000 or through `podman` (exec, kill,
restart): the tests never reach a replica or Postgres by address. Completions are committed by
one `psql` session inside the Postgres container, the way the worker commits them (insert and
complete in one transaction, so the worker never claims them). Tokens are signed with the
stack's JWT_SECRET, read from the environment or .stack/secrets.env (deploy/podman/stack.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bench.sse_client import SSEClient
from service.http.auth import mint_token
from service.http.settings import HttpSettings
from tests.support.readiness import metric
from tests.support.waiting import until

ROOT = Path(__file__).resolve().parents[2]
URL = "http://127.0.0.1:8000"
PROJECT = "vividly-notify"
IMAGE = "localhost/vividly-notify:local"
CONTAINERS_CONF = ROOT / "deploy/podman/containers.conf"
ENV = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
REPLICAS = [f"{PROJECT}-api-{n}" for n in (1, 2, 3)]
POSTGRES = f"{PROJECT}-postgres-1"
WORKER = f"{PROJECT}-worker-1"
PROXY = f"{PROJECT}-proxy-1"


def podman(*args: str, check: bool = True) -> str:
    result = subprocess.run(["podman", *args], env=ENV, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, f"podman {' '.join(args)}: {result.stderr}"
    return result.stdout


def why_podman_cannot_run() -> str | None:
    """None when podman can run containers here, else the reason."""
    if shutil.which("podman") is None:
        return "podman is not installed (`make stack` installs Debian's)"
    result = subprocess.run(["podman", "info"], env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        return f"podman cannot run here: {result.stderr.strip()[-300:]}"
    return None


def secrets() -> dict[str, str]:
    kept: dict[str, str] = {}
    path = ROOT / ".stack/secrets.env"
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            kept[name] = value
    return {name: os.environ.get(name) or kept.get(name, "") for name in kept}


def token(user: uuid.UUID) -> str:
    jwt_secret = SecretStr(secrets()["JWT_SECRET"])
    return mint_token(user, HttpSettings(jwt_secret=jwt_secret))


def in_container(name: str, url: str, *, bearer: str | None = None) -> tuple[int, str]:
    """GET `url` from inside container `name` (its Python): (status, body)."""
    script = (
        "import sys, urllib.request, urllib.error\n"
        "request = urllib.request.Request(sys.argv[1])\n"
        "if len(sys.argv) > 2: request.add_header('Authorization', 'Bearer ' + sys.argv[2])\n"
        "try:\n"
        "    response = urllib.request.urlopen(request, timeout=5)\n"
        "    print(response.status); print(response.read().decode())\n"
        "except urllib.error.HTTPError as error:\n"
        "    print(error.code); print(error.read().decode())\n"
    )
    args = ["exec", name, "python", "-c", script, url, *([bearer] if bearer else [])]
    status, _, body = podman(*args).partition("\n")
    return int(status), body


def replica_metric(name: str, metric_name: str) -> float:
    """One metric of one api replica, read inside the private network with METRICS_TOKEN."""
    status, body = in_container(name, "http://127.0.0.1:8000/metrics", bearer=metrics_token())
    assert status == 200, body
    return metric(body, metric_name)


def metrics_token() -> str:
    return secrets()["METRICS_TOKEN"]


async def replica_ready(name: str, timeout: float = 90) -> None:
    """Until `name` runs and its /readyz is 200 (what its compose healthcheck asks)."""

    def ready() -> bool:
        state = podman("inspect", "--format", "{{.State.Status}}", name, check=False).strip()
        if state != "running":
            return False
        try:
            return in_container(name, "http://127.0.0.1:8000/readyz")[0] == 200
        except AssertionError:  # exec into a container that is still starting
            return False

    await until(lambda: asyncio.to_thread(ready), f"{name} is ready", timeout=timeout, interval=0.5)


def readiness(name: str) -> int:
    """The status of `/readyz` of api replica `name`, asked inside the private network (the
    proxy answers 404 for it); 0 when the replica does not answer."""
    try:
        return in_container(name, "http://127.0.0.1:8000/readyz")[0]
    except (AssertionError, ValueError):  # podman exec failed: the container is not running
        return 0


def sql(statement: str) -> list[list[str]]:
    """Rows of one query, run by psql in the Postgres container."""
    out = podman(
        "exec", POSTGRES, "psql", "-U", "vividly", "-d", "vividly", "-At", "-F", "\t",
        "-v", "ON_ERROR_STOP=1", "-c", statement,
    )  # fmt: skip
    return [line.split("\t") for line in out.splitlines() if line]


def notification_ids(users: list[uuid.UUID]) -> dict[uuid.UUID, set[int]]:
    """Every notification of `users` in the table."""
    listed = ",".join(f"'{user}'" for user in users)
    found: dict[uuid.UUID, set[int]] = {user: set() for user in users}
    for user, notification in sql(
        f"SELECT user_id, id FROM notifications WHERE user_id IN ({listed})"
    ):
        found[uuid.UUID(user)].add(int(notification))
    return found


def completion_sql(user: uuid.UUID) -> str:
    """One request of `user` inserted and completed in one transaction (one notification)."""
    request = uuid.uuid4()
    return (
        "BEGIN;"
        f"INSERT INTO content_requests (id, student_id, title) VALUES ('{request}', '{user}',"
        " 'Photosynthesis');"
        "UPDATE content_requests SET status = 'completed', video_url = '/media/v.webm',"
        f" thumbnail_url = '/media/t.png', duration_seconds = 30 WHERE id = '{request}';"
        "COMMIT;\n"
    )


@dataclass
class Completions:
    """A psql session in the Postgres container that commits completions as it is fed them."""

    process: asyncio.subprocess.Process

    @classmethod
    async def open(cls) -> Completions:
        process = await asyncio.create_subprocess_exec(
            "podman", "exec", "-i", POSTGRES, "psql", "-U", "vividly", "-d", "vividly", "-q",
            "-v", "ON_ERROR_STOP=1",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, env=ENV,
        )  # fmt: skip
        return cls(process)

    async def complete(self, user: uuid.UUID) -> None:
        assert self.process.stdin is not None
        assert self.process.returncode is None, "psql ended"
        self.process.stdin.write(completion_sql(user).encode())
        await self.process.stdin.drain()

    async def close(self) -> None:
        """Commit what was sent, then end the session."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert await asyncio.wait_for(self.process.wait(), 30) == 0


async def reconnecting_streams(users: list[uuid.UUID]) -> list[SSEClient]:
    """One stream per user through the proxy that reconnects with Last-Event-ID, as a browser
    does (after a refusal or a 502 too); returns once every one is connected."""
    streams = [
        SSEClient("127.0.0.1", 8000, token(user), reconnect=True, retry_seconds=0.5)
        for user in users
    ]
    for stream in streams:
        await stream.connect()
    # A replica restarted a moment ago may have a new address that nginx has not resolved yet
    # (`valid=5s`): a 502 for those seconds, then the client's retry gets through.
    await until(lambda: all(stream.connects for stream in streams), "every stream is connected",
                timeout=20, interval=0.1)  # fmt: skip
    return streams


async def delivered(streams: list[SSEClient], users: list[uuid.UUID], timeout: float) -> None:
    """Until every stream has every notification of its user in the table, once: 0 lost, and
    0 duplicated (a replay never repeats what a stream already had)."""
    expected = await asyncio.to_thread(notification_ids, users)

    def lost() -> int:
        return sum(
            len(expected[user] - {n for n, _, _ in stream.received.notifications})
            for stream, user in zip(streams, users, strict=True)
        )

    try:
        await until(lambda: lost() == 0, "nothing is lost", timeout=timeout, interval=0.2)
    except AssertionError:
        detail = [
            f"{user}: missing {sorted(expected[user] - got)}, got {sorted(got)}, "
            f"{stream.connects} connects, last status {stream.status}, last id {stream.last_id}, "
            f"named {[name for name, _ in stream.received.named]}"
            for stream, user in zip(streams, users, strict=True)
            if expected[user] - (got := {n for n, _, _ in stream.received.notifications})
        ]
        total = sum(map(len, expected.values()))
        raise AssertionError(f"{lost()} of {total} lost:\n" + "\n".join(detail)) from None
    for stream, user in zip(streams, users, strict=True):
        ids = [n for n, _, _ in stream.received.notifications]
        assert len(ids) == len(set(ids)), f"duplicated for {user}: {sorted(ids)}"
        assert set(ids) == expected[user]
