"""The image and the stack's exposure, checked on the running containers: the api runs as an
unprivileged user, the image holds no compiler and no dev dependency (and stays under a size
bound: 554 MB when measured, most of it ffmpeg in the imageio-ffmpeg wheel), secrets reach the
containers from the environment only, and /metrics and the replicas' and worker's ports are
reachable inside the stack's network only: the host sees the proxy's port, nothing else."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from tests.support.stack import (
    IMAGE,
    PROJECT,
    PROXY,
    REPLICAS,
    URL,
    WORKER,
    in_container,
    metrics_token,
    podman,
    replica_ready,
    secrets,
)

pytestmark = pytest.mark.stack
SIZE_BOUND = 600_000_000  # bytes
DEV_ONLY = ["pytest", "mypy", "ruff", "playwright", "hypothesis", "schemathesis", "aiosmtpd"]
SETTINGS = {"DATABASE_URL", "JWT_SECRET", "METRICS_TOKEN", "FORWARDED_ALLOW_IPS", "POOL_MAX_SIZE"}
COMPILERS = ["gcc", "cc", "c++", "g++", "clang", "tcc", "make", "ld", "as"]


def test_the_api_runs_as_an_unprivileged_user() -> None:
    [config] = json.loads(podman("image", "inspect", IMAGE))
    assert config["Config"]["User"] == "vividly"
    for name in REPLICAS:
        assert podman("exec", name, "id", "-u").strip() not in {"", "0"}
        # Every process of the container, not only what `exec` starts.
        users = podman("top", name, "user").split()[1:]
        assert users
        assert "root" not in users, users


def test_the_image_holds_no_compiler_and_no_dev_dependency() -> None:
    found = podman(
        "run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
        " ".join(f"command -v {tool};" for tool in COMPILERS) + " true",
    )  # fmt: skip
    assert found.strip() == "", found
    check = f"import importlib.util as u; print([m for m in {DEV_ONLY!r} if u.find_spec(m)])"
    assert podman("exec", REPLICAS[0], "python", "-c", check).strip() == "[]"
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE))
    print(f"{IMAGE}: {size / 1e6:.0f} MB")
    assert size < SIZE_BOUND, size


def test_secrets_reach_the_containers_from_the_environment_only() -> None:
    values = [value for value in secrets().values() if value]
    assert len(values) == 3
    [config] = json.loads(podman("image", "inspect", IMAGE))
    image_env = " ".join(config["Config"]["Env"])
    history = podman("history", "--no-trunc", "--format", "{{.CreatedBy}}", IMAGE)
    for value in values:
        assert value not in image_env
        assert value not in history
    for variable in ("JWT_SECRET", "METRICS_TOKEN", "DATABASE_URL"):
        assert variable not in image_env
    env = podman("exec", REPLICAS[0], "printenv", "JWT_SECRET").strip()
    assert env == secrets()["JWT_SECRET"]


def test_only_the_proxy_is_published_and_ops_endpoints_stay_inside() -> None:
    published = podman(
        "ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
        "--format", "{{.Names}} {{.Ports}}",
    )  # fmt: skip
    ports = {line.split()[0]: line.split()[1:] for line in published.splitlines()}
    assert ports.pop(PROXY) == ["127.0.0.1:8000->8000/tcp"]
    assert all(not listed for listed in ports.values()), ports
    with httpx.Client(base_url=URL) as client:
        bearer = {"Authorization": f"Bearer {metrics_token()}"}
        for path in ("/metrics", "/metrics/", "/metrics/x"):
            assert client.get(path).status_code == 404
            assert client.get(path, headers=bearer).status_code == 404
        for path in ("/readyz", "/readyz/", "/readyz?x=1"):  # readiness: inside only
            assert client.get(path).status_code == 404
            assert client.get(path, headers=bearer).status_code == 404
    # The worker's metrics port is not on the host (5432 may be the machine's own Postgres).
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", 9100)):
        pass
    # Inside the network they answer: readiness to probes, metrics for the token only.
    assert in_container(REPLICAS[0], "http://127.0.0.1:8000/readyz") == (200, '{"status":"ready"}')
    assert in_container(REPLICAS[0], "http://127.0.0.1:8000/metrics")[0] == 401
    status, body = in_container(
        REPLICAS[0], f"http://{WORKER}:9100/metrics", bearer=metrics_token()
    )
    assert status == 200, body
    assert "vividly_" in body


async def test_the_api_serves_with_a_read_only_root_filesystem() -> None:
    # What deploy/k8s/ asks of the pods: a read-only root, /tmp writable, no capabilities, no
    # privilege escalation. A replica of its own on the stack's network (no `api` alias: the
    # proxy never sends it anything), ready like the others.
    [config] = json.loads(podman("container", "inspect", REPLICAS[0]))
    env = [item for item in config["Config"]["Env"] if item.split("=")[0] in SETTINGS]
    name = f"{PROJECT}-readonly-1"
    podman(
        "run", "-d", "--name", name, "--label", f"com.docker.compose.project={PROJECT}",
        "--network", f"{PROJECT}_backend", "--read-only", "--tmpfs", "/tmp",
        "--volume", f"{PROJECT}_media:/data/media", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        *[arg for item in env for arg in ("--env", item)],
        IMAGE, "serve", "--port", "8000",
    )  # fmt: skip
    try:
        await replica_ready(name, timeout=60)
    finally:
        podman("rm", "--force", name)
