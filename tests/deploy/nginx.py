"""deploy/nginx.conf run by Debian's nginx on the loopback, in front of a uvicorn of the test's.

`loopback_config` rewrites only what ties the file to the compose network (the listen port, the
`api` upstream, the pid and log files, one worker) and fails if any of those lines moved, so
what runs is the shipped config. Debian bookworm's nginx (1.22) predates `resolve` on an
upstream server (open source since 1.27.3, the compose image's): for it that one parameter goes,
and the upstream is a fixed address either way.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy/nginx.conf"
UPSTREAM_RESOLVE = (1, 27, 3)


def binary() -> str:
    """Debian's nginx (skips the test when it is missing: `make test` installs it)."""
    found = shutil.which("nginx")
    if found is None and os.path.exists("/usr/sbin/nginx"):
        found = "/usr/sbin/nginx"
    if found is None:
        pytest.skip("Debian's nginx is not installed (`make test` installs it)")
    return found


def version(nginx: str) -> tuple[int, ...]:
    output = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
    [number] = re.findall(r"nginx/(\d+\.\d+\.\d+)", output)
    return tuple(int(part) for part in number.split("."))


def _replace(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == 1, f"deploy/nginx.conf: expected one line matching {pattern!r}"
    return new


def checkable_config(text: str, nginx: str, upstream: str = "127.0.0.1:8000") -> str:
    """The config with the compose service name `api` replaced by `upstream`, which nginx
    resolves when it starts (the compose network's DNS is not here)."""
    keep = " resolve" if version(nginx) >= UPSTREAM_RESOLVE else ""
    return _replace(text, r"^(\s*)server api:8000 resolve;", rf"\1server {upstream}{keep};")


def loopback_config(
    nginx: str, prefix: Path, *, listen: int, upstream: int, shutdown_timeout: str | None = None
) -> str:
    """deploy/nginx.conf listening on 127.0.0.1:`listen`, proxying to 127.0.0.1:`upstream`
    (with another `worker_shutdown_timeout`, when given, so a test need not wait 30 s)."""
    text = checkable_config(CONFIG.read_text(), nginx, f"127.0.0.1:{upstream}")
    if shutdown_timeout is not None:
        text = _replace(
            text, r"^worker_shutdown_timeout \d+s;", f"worker_shutdown_timeout {shutdown_timeout};"
        )
    text = _replace(text, r"^worker_processes auto;", "worker_processes 1;")
    text = _replace(text, r"^pid /tmp/nginx\.pid;", f"pid {prefix}/nginx.pid;")
    text = _replace(text, r"^error_log /dev/stderr warn;", f"error_log {prefix}/error.log info;")
    text = _replace(text, r"access_log /dev/stdout main;", f"access_log {prefix}/access.log main;")
    return _replace(text, r"^(\s*)listen 8000;", rf"\1listen 127.0.0.1:{listen};")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Proxy:
    """A running nginx: where it listens, and its master process."""

    url: str
    process: subprocess.Popen[bytes]

    def reload(self) -> None:
        """What `nginx -s reload` does: new workers start, the old ones shut down gracefully."""
        self.process.send_signal(signal.SIGHUP)


@contextmanager
def proxy(prefix: Path, upstream: int, *, shutdown_timeout: str | None = None) -> Iterator[Proxy]:
    """Run nginx with the shipped config in front of 127.0.0.1:`upstream` until the block ends."""
    nginx = binary()
    port = free_port()
    config = prefix / "nginx.conf"
    config.write_text(
        loopback_config(
            nginx, prefix, listen=port, upstream=upstream, shutdown_timeout=shutdown_timeout
        )
    )
    process = subprocess.Popen(
        [nginx, "-p", f"{prefix}/", "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr and process.stderr.read()
                assert time.monotonic() < deadline, "nginx did not listen within 10 s"
                time.sleep(0.05)
        yield Proxy(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGTERM)  # fast shutdown: open streams are cut
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
