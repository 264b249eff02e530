"""Row 6 of issue 11: no development login off loopback, no published secret.

`vividly-notify serve` as real processes on the embedded database.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from service.cli import main
from service.http.exposure import SECRET_FILE, Refused, data_dir_secret, dev_login_on, is_loopback
from service.settings import Settings
from tests.support.ports import free_port
from tests.support.processes import COMMAND, wait_healthy
from tests.support.server import SECRET

PUBLISHED = "dev-only-insecure-secret-change-me"  # the default of earlier versions


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_dev_login_follows_the_bind_address(caplog: pytest.LogCaptureFixture) -> None:
    def on(dev_login: object, host: str, embedded: bool = True) -> bool:
        settings = Settings(jwt_secret=SECRET, dev_login=dev_login)  # type: ignore[arg-type]
        return dev_login_on(settings, host, embedded=embedded)

    assert on(None, "127.0.0.1") is True
    assert on(None, "0.0.0.0") is False
    assert on(None, "127.0.0.1", embedded=False) is False
    assert on(True, "127.0.0.1", embedded=False) is True
    assert on(False, "127.0.0.1") is False
    with pytest.raises(Refused, match="DEV_LOGIN=force"):
        on(True, "0.0.0.0")
    with caplog.at_level(logging.WARNING):
        assert on("force", "0.0.0.0") is True
    assert "anyone who reaches this port can act as any user" in caplog.text


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (PUBLISHED, "published"),
        ("short-secret", "at least 32 bytes"),
        ("ab" * 20, "too repetitive"),
    ],
)
def test_weak_secrets_are_refused_everywhere(secret: str, reason: str) -> None:
    env = {"JWT_SECRET": secret, "DATABASE_URL": "postgresql://nowhere/x"}
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 2
    assert reason in result.output
    with pytest.raises(ValidationError, match=reason):
        Settings(jwt_secret=secret)  # type: ignore[arg-type]


def test_dev_login_true_on_a_public_address_does_not_start(tmp_path: Path) -> None:
    # A process, not CliRunner: were the refusal ever gone, this would serve rather than return.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET")}
    env |= {"DATA_DIR": str(tmp_path / "pg"), "DEV_LOGIN": "true"}
    command = [*COMMAND, "serve", "--host", "0.0.0.0", "--port", str(free_port())]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "only allowed on a loopback address" in result.stderr
    assert not (tmp_path / "pg").exists()  # refused before anything started


@pytest.fixture
def public_embedded(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`serve` on 0.0.0.0 with the embedded database, no JWT_SECRET and no DEV_LOGIN."""
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JWT_SECRET", "DEV_LOGIN")
    }
    env["DATA_DIR"] = str(tmp_path / "pgdata")
    process = subprocess.Popen(
        [*COMMAND, "serve", "--host", "0.0.0.0", "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_healthy(base, process).status_code == 200
        yield base, env
    finally:
        process.terminate()
        process.wait(20)


def test_a_public_bind_has_no_dev_login_and_its_own_secret(
    public_embedded: tuple[str, dict[str, str]],
) -> None:
    base, env = public_embedded
    user = str(uuid.uuid4())
    assert httpx.post(f"{base}/api/v1/dev/login", json={"user_id": user}).status_code == 404

    secret_file = Path(env["DATA_DIR"]) / SECRET_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(secret_file.read_text().strip()) >= 32

    claims = {"sub": user, "exp": int(time.time()) + 600}
    forged = jwt.encode(claims, PUBLISHED, algorithm="HS256")
    me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert me.status_code == 401  # the old published default signs nothing here

    # `vividly-notify token` reads the same data directory's secret: its tokens are accepted.
    minted = subprocess.run(
        [*COMMAND, "token", user], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {minted}"})
    assert me.status_code == 200
    assert me.json()["user_id"] == user


@pytest.mark.parametrize("token", ["", "   ", "short-token"])
def test_an_empty_or_short_metrics_token_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="METRICS_TOKEN must be at least 16 characters"):
        Settings(jwt_secret=SECRET, metrics_token=token)  # type: ignore[arg-type]
    result = CliRunner().invoke(
        main, ["serve"], env={"JWT_SECRET": SECRET, "METRICS_TOKEN": token, "DATABASE_URL": "x"}
    )
    assert result.exit_code != 0
    assert "METRICS_TOKEN must be at least 16 characters" in result.output


def test_a_secret_file_that_cannot_be_read_is_a_clear_refusal(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).mkdir()
    env = {"DATA_DIR": str(tmp_path), "JWT_SECRET": None, "DATABASE_URL": None}
    result = CliRunner().invoke(main, ["token", str(uuid.uuid4())], env=env)
    assert result.exit_code == 2, result.output
    assert "cannot read the JWT secret (Is a directory)" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_secret_file_readable_by_others_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret_file = tmp_path / SECRET_FILE
    secret_file.write_text(SECRET)
    secret_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="service.http.exposure"):
        assert data_dir_secret(tmp_path, create=False) is not None
    assert "can be read by other users (mode 644)" in caplog.text
    secret_file.chmod(0o600)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="service.http.exposure"):
        data_dir_secret(tmp_path, create=False)
    assert "can be read by other users" not in caplog.text
