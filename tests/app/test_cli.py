"""The `vividly-notify` command, run as a real process."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from pydantic import SecretStr

from db.migrate import alembic_config
from db.urls import asyncpg_dsn
from service.http.auth import decode_token
from service.settings import Settings
from tests.support.ports import free_port
from tests.support.processes import COMMAND, wait_healthy


@pytest.mark.parametrize("args", [[], ["serve"], ["migrate"]])
def test_help(args: list[str]) -> None:
    result = subprocess.run([*COMMAND, *args, "--help"], capture_output=True, text=True, check=True)
    assert "Usage:" in result.stdout


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    data_dir = tmp_path / "pgdata"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATA_DIR"] = str(data_dir)
    process = subprocess.Popen([*COMMAND, "serve", "--port", str(port)], env=env)
    try:
        yield f"http://127.0.0.1:{port}", data_dir, process
    finally:
        process.terminate()
        process.wait(20)


def test_serve_on_the_embedded_database(
    embedded_server: tuple[str, Path, subprocess.Popen[bytes]],
) -> None:
    base, data_dir, process = embedded_server
    health = wait_healthy(base, process)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    deadline = time.monotonic() + 10  # ready once its listener hears its own NOTIFY
    while (ready := httpx.get(base + "/readyz")).status_code != 200:
        assert time.monotonic() < deadline, ready.json()
        time.sleep(0.1)
    assert ready.json() == {"status": "ready"}
    page = httpx.get(base + "/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert (data_dir / "PG_VERSION").read_text().strip() == "16"

    process.terminate()
    assert process.wait(20) == 0
    # The embedded server stops with the last process that used it; the data stays.
    assert (data_dir / "PG_VERSION").exists()
    assert not (data_dir / "postmaster.pid").exists()


def test_migrate_an_external_database(empty_database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database_url}
    result = subprocess.run(
        [*COMMAND, "migrate"], env=env, capture_output=True, text=True, check=True
    )
    assert "migrated" in result.stdout
    import asyncio

    import asyncpg

    async def version() -> str:
        connection = await asyncpg.connect(asyncpg_dsn(empty_database_url))
        try:
            value: str = await connection.fetchval("SELECT version_num FROM alembic_version")
            return value
        finally:
            await connection.close()

    head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()
    assert asyncio.run(version()) == head


def test_token_command_mints_a_token_the_server_accepts() -> None:
    user = uuid.uuid4()
    secret = "cli-secret-cli-secret-cli-secret-cli"
    env = {**os.environ, "JWT_SECRET": secret}
    result = subprocess.run(
        [*COMMAND, "token", str(user), "--ttl", "60"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    decoded = decode_token(result.stdout.strip(), Settings(jwt_secret=SecretStr(secret)))
    assert decoded.id == user
    assert decoded.roles == frozenset()


def test_token_command_gives_roles() -> None:
    secret = "cli-secret-cli-secret-cli-secret-cli"
    result = subprocess.run(
        [*COMMAND, "token", str(uuid.uuid4()), "--role", "admin", "--role", "teacher"],
        env={**os.environ, "JWT_SECRET": secret},
        capture_output=True,
        text=True,
        check=True,
    )
    decoded = decode_token(result.stdout.strip(), Settings(jwt_secret=SecretStr(secret)))
    assert decoded.roles == {"admin", "teacher"}


def test_token_command_rejects_a_bad_user_id() -> None:
    result = subprocess.run([*COMMAND, "token", "alice"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "not a valid UUID" in result.stderr


def test_serve_refuses_the_development_secret_without_dev_login(empty_database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    env["DATABASE_URL"] = empty_database_url
    result = subprocess.run([*COMMAND, "serve"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("CORS_ORIGINS", '["*"]', "CORS_ORIGINS: '*' is refused"),
        ("CORS_ORIGINS", '["https://app.example/"]', "is not an origin"),
        ("COOKIE_SECURE", "false", "COOKIE_SAMESITE=none needs a Secure cookie"),
    ],
)
def test_serve_refuses_bad_cross_origin_settings_with_a_clear_error(
    variable: str, value: str, reason: str
) -> None:
    env = {**os.environ, "COOKIE_SAMESITE": "none", variable: value}
    result = subprocess.run([*COMMAND, "serve"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid configuration: " in result.stderr
    assert reason in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "migrates"),
    [(["serve"], False), (["serve", "--migrate"], True), (["run"], True)],
)
def test_serve_migrates_an_external_database_only_when_asked(
    empty_database_url: str, args: list[str], migrates: bool
) -> None:
    # Migrating is a step of its own (`vividly-notify migrate`, the compose one-shot, a Job):
    # replicas that each migrate on start would each queue on the schema's locks. `run`, the
    # whole product in one process (`make run`), still migrates.
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": empty_database_url,
        "JWT_SECRET": "cli-secret-cli-secret-cli-secret-cli",
    }
    process = subprocess.Popen([*COMMAND, *args, "--port", str(port)], env=env)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        import asyncio

        import asyncpg

        async def migrated() -> bool:
            connection = await asyncpg.connect(asyncpg_dsn(empty_database_url))
            try:
                return bool(await connection.fetchval("SELECT to_regclass('alembic_version')"))
            finally:
                await connection.close()

        assert asyncio.run(migrated()) is migrates
    finally:
        process.terminate()
        process.wait(20)


def test_channels_command_sets_and_shows_the_mode_in_the_database(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}

    def channels(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, "channels", *args], env=env, capture_output=True, text=True
        )

    assert channels("show").stdout == "channels: per-user\n"
    assert channels("shards", "--count", "64").stdout == "channels: shards (64)\n"
    assert channels("show").stdout == "channels: shards (64)\n"
    refused = channels("shards", "--count", "0")
    assert refused.returncode == 2
    assert "--count" in refused.stderr
    assert channels("per-user").stdout == "channels: per-user\n"
    assert channels("show").stdout == "channels: per-user\n"
