"""The container files, checked without a container engine.

`docker-compose.yml` is validated against the Compose specification (the `compose-spec`
package); each command it runs is a real `vividly-notify` command with valid options; each
variable it or the Dockerfile sets is a setting; the Dockerfile installs what `make` installs;
`deploy/nginx.conf` passes Debian's `nginx -t` and routes what the compose file and the app
define. Building the image and running the stack through the proxy is tests/stack/ (`make stack`,
a stage of `make test` of its own).
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from service import cli
from service.app import WEB_DIR
from service.http.routes.ops import router as ops_router
from service.http.routes.stream import STREAM_PATH
from service.settings import Settings
from tests.support.deploy import ROOT, load_compose

from . import nginx as proxy

IMAGE = "vividly-notify:local"
# Read by a library we run rather than by Settings, each with the proof that it is read.
LIBRARY_VARIABLES = {"FORWARDED_ALLOW_IPS"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = {n: s for n, s in compose["services"].items() if s.get("image") == IMAGE}
    assert set(services) == {"migrate", "api", "worker"}
    return services


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_compose_file_follows_the_specification(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "migrate", "api", "worker", "proxy"}
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert "healthcheck" in postgres
    assert "pgdata:/var/lib/postgresql/data" in postgres["volumes"]
    assert compose["services"]["proxy"]["ports"] == ["8000:8000"]


def test_the_validator_rejects_what_compose_would() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    broken = text.replace("    stop_grace_period: 20s\n", "    stop_grace_periods: 20s\n")
    assert broken != text
    with pytest.raises(ValueError, match="stop_grace_periods"):
        load_compose(broken)


def test_migrate_runs_once_before_api_and_worker(app_services: dict[str, Any]) -> None:
    assert app_services["migrate"]["restart"] == "on-failure"  # not rerun once it succeeded
    assert app_services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert app_services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    # Scalable: nothing that only one replica could hold.
    assert "ports" not in app_services["api"]
    assert "container_name" not in app_services["api"]


@pytest.mark.parametrize("service", ["migrate", "api", "worker"])
def test_each_command_is_one_of_ours(app_services: dict[str, Any], service: str) -> None:
    name, *args = app_services[service]["command"]
    command = cli.main.commands.get(name)
    assert command is not None, f"vividly-notify has no command {name!r}"
    command.make_context(name, list(args))  # raises on an unknown option or a bad value


def test_the_image_runs_our_command_by_default() -> None:
    text = dockerfile()
    scripts = re.search(
        r'vividly-notify = "service\.cli:main"', (ROOT / "pyproject.toml").read_text()
    )
    assert scripts, "pyproject.toml defines the vividly-notify script"
    assert 'ENTRYPOINT ["vividly-notify"]' in text
    [default] = re.findall(r"^CMD (.+)$", text, re.MULTILINE)
    name, *args = json.loads(default)
    cli.main.commands[name].make_context(name, args)


def test_every_variable_is_a_setting(
    app_services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {name.upper() for name in Settings.model_fields}
    for name, service in app_services.items():
        for variable in service["environment"]:
            assert variable in settings | LIBRARY_VARIABLES, f"{name}: {variable} is no setting"
    runtime = dockerfile().split("\nFROM ")[-1]
    [block] = re.findall(r"^ENV ((?:.*\\\n)*.*)$", runtime, re.MULTILINE)
    image_variables = {part.split("=")[0] for part in shlex.split(block.replace("\\\n", " "))}
    assert image_variables - {"PATH", "PYTHONUNBUFFERED"} <= settings
    # The one library variable really is read: uvicorn trusts the proxy's forwarded headers.
    trusted = app_services["api"]["environment"]["FORWARDED_ALLOW_IPS"]
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", trusted)
    assert uvicorn.Config("service.app:create_app").forwarded_allow_ips == trusted


def test_no_secret_is_in_the_image_or_the_compose_file(app_services: dict[str, Any]) -> None:
    for service in app_services.values():
        for variable in ("JWT_SECRET", "DATABASE_URL"):
            assert "${" in service["environment"][variable]  # from the operator's environment
    assert "SECRET" not in dockerfile()
    assert "PASSWORD" not in dockerfile()
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "**/.env*" in ignored  # .env.local and nested ones too
    assert "**/*.pem" in ignored
    assert ".git" in ignored


def test_the_image_installs_what_make_installs() -> None:
    makefile = (ROOT / "Makefile").read_text()
    [uv_pin] = re.findall(r"pip install --quiet (uv==\S+)", makefile)
    [sync] = re.findall(r"\$\(UV\) (sync --frozen)", makefile)
    text = dockerfile()
    assert f"pip install --quiet {uv_pin}" in text
    runs = re.findall(r"^RUN /opt/uv/bin/uv (.+)$", text, re.MULTILINE)
    assert runs == [f"{sync} --no-install-project", sync]  # no dev extra in the image
    assert "UV_PYTHON_DOWNLOADS=never" in text


def test_the_image_is_multi_stage_and_not_root() -> None:
    text = dockerfile()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 2
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users
    assert users[-1] not in {"root", "0"}
    assert text.index("USER ") < text.index("ENTRYPOINT")


def test_the_image_holds_every_directory_the_app_reads() -> None:
    copied = re.findall(r"^COPY (\S+) \1$", dockerfile(), re.MULTILINE)
    for path in copied:
        assert (ROOT / path).is_dir(), path
    needed = {WEB_DIR, WEB_DIR.parent / "clients/js/src"}
    needed |= {ROOT / package for package in ("service", "db", "migrations")}
    assert {ROOT / path for path in copied} >= needed


def test_the_api_healthcheck_asks_readiness(app_services: dict[str, Any]) -> None:
    probe = " ".join(app_services["api"]["healthcheck"]["test"])
    [path] = re.findall(r"http://127\.0\.0\.1:8000(/\w+)", probe)
    assert path == "/readyz"
    assert path in {route.path for route in ops_router.routes}  # type: ignore[attr-defined]
    assert cli.main.commands["serve"].make_context("serve", app_services["api"]["command"][1:])


def test_postgres_is_healthy_only_over_tcp(compose: dict[str, Any]) -> None:
    # The image's init server listens on the socket only; pg_isready without -h answers it
    # before the real server is up (docker-library/postgres#880).
    test = compose["services"]["postgres"]["healthcheck"]["test"]  # CMD-SHELL: one string
    probe = shlex.split(test if isinstance(test, str) else " ".join(test[1:]))
    assert probe[0] == "pg_isready"
    assert probe[probe.index("-h") + 1] == "127.0.0.1"
    assert {"-U", "-d"} <= set(probe)


def test_postgres_has_connections_for_twenty_api_replicas_and_a_rollout(
    compose: dict[str, Any], app_services: dict[str, Any]
) -> None:
    # docs/deployment.md "Connections": each API replica holds its pool plus one LISTEN
    # connection, a worker three plus one, a migration one, and a rollout runs old and new
    # replicas side by side. Postgres's default of 100 ran out near `--scale api=9`.
    command = compose["services"]["postgres"]["command"]
    words = shlex.split(command) if isinstance(command, str) else list(command)
    [setting] = [words[i + 1] for i, word in enumerate(words) if word == "-c"
                 and words[i + 1].startswith("max_connections=")]  # fmt: skip
    max_connections = int(setting.split("=")[1])
    pool = int(app_services["api"]["environment"]["POOL_MAX_SIZE"])
    replicas, surge, workers, reserved = 20, 20, 2, 3
    needed = (replicas + surge) * (pool + 1) + workers * (3 + 1) + 1 + reserved
    assert max_connections >= needed, (max_connections, needed)


NGINX = (ROOT / "deploy/nginx.conf").read_text()


def location(pattern: str) -> str:
    """The body of the nginx `location` whose header matches `pattern`."""
    [body] = re.findall(rf"location {pattern} \{{(.*?)\}}", NGINX, re.DOTALL)
    return str(body)


def test_metrics_and_readiness_are_not_served_through_the_proxy() -> None:
    # Behind a TLS terminator every client looks private: no address-based allow list.
    assert not re.search(r"^\s*allow ", NGINX, re.MULTILINE)
    ops = location(r"~ \^/\(metrics\|readyz\)\(/\|\$\)")
    assert ops.strip() == "return 404;"
    pattern = re.compile(r"^/(metrics|readyz)(/|$)")
    for path in ("/metrics", "/metrics/", "/metrics/x", "/readyz", "/readyz/"):
        assert pattern.match(path), path
    assert not pattern.match("/metricsx")
    assert not pattern.match("/readyzx")


def test_ops_endpoints_need_the_metrics_token(app_services: dict[str, Any]) -> None:
    for name in ("api", "worker"):
        variable = app_services[name]["environment"]["METRICS_TOKEN"]
        assert variable.startswith("${METRICS_TOKEN:?"), f"{name}: METRICS_TOKEN is required"


def test_the_worker_serves_metrics_on_an_unpublished_port(app_services: dict[str, Any]) -> None:
    worker = app_services["worker"]
    port = int(worker["environment"]["WORKER_METRICS_PORT"])
    assert Settings(worker_metrics_port=port).worker_metrics_port == port
    assert "ports" not in worker
    assert worker["environment"]["METRICS_TOKEN"].startswith("${METRICS_TOKEN:?")


def test_forwarded_addresses_are_believed_from_the_proxy_only(
    compose: dict[str, Any], app_services: dict[str, Any]
) -> None:
    trusted = app_services["api"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert trusted != "*"
    proxy = compose["services"]["proxy"]
    [(network, attached)] = proxy["networks"].items()
    assert attached["ipv4_address"] == trusted
    [pool] = compose["networks"][network]["ipam"]["config"]
    address = ipaddress.ip_address(trusted)
    assert address in ipaddress.ip_network(pool["subnet"])
    # Docker never hands the proxy's address to another container of the network.
    assert address not in ipaddress.ip_network(pool["ip_range"])
    for name, service in compose["services"].items():
        assert set(service["networks"]) == {network}, name
    # nginx passes on the address it saw, never a client's own X-Forwarded-For.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in NGINX
    assert "$proxy_add_x_forwarded_for" not in NGINX


def test_a_reload_does_not_keep_old_streams_for_an_hour(compose: dict[str, Any]) -> None:
    [timeout] = re.findall(r"^worker_shutdown_timeout (\d+)s;", NGINX, re.MULTILINE)
    stop = compose["services"]["proxy"]["stop_grace_period"]
    assert int(timeout) < seconds(stop)
    assert int(timeout) < Settings.model_fields["stream_max_age_seconds"].default


def seconds(duration: str | int | float) -> float:
    """A compose duration (`35s`, `1m30s`, or seconds) in seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", duration))


def test_the_proxy_keeps_connections_to_the_replicas() -> None:
    [upstream] = re.findall(r"upstream api \{(.*?)\}", NGINX, re.DOTALL)
    assert re.search(r"^\s*keepalive \d+;", upstream, re.MULTILINE)
    assert re.search(r"^\s*zone api \S+;", upstream, re.MULTILINE)
    # nginx closes an idle connection before uvicorn does (else a POST may meet a closed one).
    [idle] = re.findall(r"^\s*keepalive_timeout (\d+)s;", upstream, re.MULTILINE)
    assert int(idle) < uvicorn.Config("service.app:create_app").timeout_keep_alive
    # Replicas that come and go with --scale are found again (Docker's DNS, every 5 s).
    assert re.search(r"^\s*server api:8000 resolve;", upstream, re.MULTILINE)
    assert "resolver 127.0.0.11 valid=5s" in NGINX
    passes = re.findall(r"proxy_pass (\S+);", NGINX)
    assert passes
    assert set(passes) == {"http://api"}
    assert "proxy_http_version 1.1;" in NGINX
    assert 'proxy_set_header Connection "";' in NGINX
    [connect] = re.findall(r"^\s*proxy_connect_timeout (\d+)s;", NGINX, re.MULTILINE)
    assert int(connect) <= 5


def test_the_proxy_image_knows_upstream_resolve(compose: dict[str, Any]) -> None:
    image = compose["services"]["proxy"]["image"]
    version = tuple(int(part) for part in image.partition(":")[2].split("."))
    assert version >= (1, 27, 3) or version[:2] >= (1, 28), image


def test_the_proxy_has_the_descriptors_its_workers_ask_for(compose: dict[str, Any]) -> None:
    [wanted] = re.findall(r"^worker_rlimit_nofile (\d+);", NGINX, re.MULTILINE)
    nofile = compose["services"]["proxy"]["ulimits"]["nofile"]
    assert nofile["soft"] >= int(wanted)
    assert nofile["hard"] >= int(wanted)
    [connections] = re.findall(r"worker_connections (\d+);", NGINX)
    assert int(wanted) >= int(connections)


def test_the_stream_is_never_compressed() -> None:
    stream = location("= " + re.escape(STREAM_PATH))
    assert re.search(r"^\s*gzip off;", stream, re.MULTILINE)


def test_an_incoming_forwarded_proto_is_kept() -> None:
    [mapping] = re.findall(
        r"map \$http_x_forwarded_proto \$forwarded_proto \{(.*?)\}", NGINX, re.DOTALL
    )
    assert re.search(r"^\s*default \$scheme;", mapping, re.MULTILINE)
    assert re.search(r"^\s*https https;", mapping, re.MULTILINE)
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in NGINX
    assert "X-Forwarded-Proto $scheme" not in NGINX


def test_the_proxy_routes_to_the_api_replicas_and_leaves_streams_unbuffered(
    compose: dict[str, Any],
) -> None:
    proxy = compose["services"]["proxy"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert re.search(r"^\s*listen 8000;", NGINX, re.MULTILINE)
    port = compose["services"]["api"]["command"][-1]
    assert re.search(rf"^\s*server api:{port} ", NGINX, re.MULTILINE)
    stream = re.search(rf"location = {re.escape(STREAM_PATH)} \{{(.*?)\}}", NGINX, re.DOTALL)
    assert stream, "the stream has its own location"
    assert "proxy_buffering off;" in stream.group(1)
    assert "proxy_pass http://api;" in stream.group(1)
    [read_timeout] = re.findall(r"proxy_read_timeout (\d+)s;", stream.group(1))
    assert int(read_timeout) > Settings.model_fields["keepalive_seconds"].default * 2


def test_nginx_accepts_the_proxy_config(tmp_path: Path) -> None:
    nginx = proxy.binary()
    config = tmp_path / "nginx.conf"
    config.write_text(proxy.checkable_config(NGINX, nginx))
    result = subprocess.run(
        [nginx, "-t", "-p", f"{tmp_path}/", "-c", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
