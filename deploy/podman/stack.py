"""`make stack` and `make stack-down`: docker-compose.yml run by podman on this kind of machine.

    .venv/bin/python deploy/podman/stack.py up      # build, start, wait until ready
    .venv/bin/python deploy/podman/stack.py down    # remove what `up` made
    .venv/bin/python deploy/podman/stack.py check   # exit 0 when podman can run containers

Reads docker-compose.yml with deploy/podman/compose.podman.yml on top (mappings merge, lists
replace), checks the result against the Compose specification, and drives podman directly,
because Debian's podman-compose (1.0.3) drops what this stack relies on: a network's `ipam`
subnet and `ip_range`, a service's `ipv4_address` (the proxy's fixed address, trusted for
forwarded headers), `depends_on` conditions (`service_healthy`,
`service_completed_successfully`: it starts everything at once), `stop_grace_period` (podman's
10 s would cut the api's 23 s shutdown budget) and `--scale`.

What `up` guarantees: the images are built from the one Dockerfile (layers cached by podman, the
build stage kept as `vividly-notify:build` so that pruning what a build superseded keeps the
dependency layer; the machine's CA bundle mounted for the build only, in no layer), every
container is the compose file's (`deploy.replicas` of each service), each starts only when what
it depends on is healthy or completed, and it returns only when every api replica's healthcheck
passes (/readyz, inside the network) and the proxy serves the app. Secrets come from the
environment; those unset are made once and kept in .stack/secrets.env (mode 0600, outside
every image) so the stack's data stays readable across runs. `down` removes the containers,
the network and the volumes (pgdata, media), and keeps the images: base images and build
layers are caches.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import compose_spec
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = (ROOT / "docker-compose.yml", ROOT / "deploy/podman/compose.podman.yml")
STATE = ROOT / ".stack"
SECRETS = STATE / "secrets.env"
URL = "http://127.0.0.1:8000"
GENERATED = {"POSTGRES_PASSWORD": 24, "JWT_SECRET": 32, "METRICS_TOKEN": 16}  # random bytes
CONTAINERS_CONF = ROOT / "deploy/podman/containers.conf"


def podman(*args: str, check: bool = True, quiet: bool = False) -> str:
    """Run podman with this machine's containers.conf; its stdout."""
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    result = subprocess.run(
        ["podman", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if quiet else None,
    )
    if check and result.returncode != 0:
        shown = [re.sub(r"^(\w+)=.*", r"\1=...", arg) for arg in args]  # no secret in a log
        raise SystemExit(
            f"podman {shlex.join(shown)} failed ({result.returncode}): {result.stderr}"
        )
    return result.stdout


def merge(base: Any, override: Any) -> Any:
    """Mappings merge key by key; anything else (lists included) is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base.get(key), value) if key in base else value
        return merged
    return copy.deepcopy(override)


def load_secrets() -> dict[str, str]:
    """The stack's secrets: the environment's, else made once and kept in .stack/secrets.env."""
    kept: dict[str, str] = {}
    if SECRETS.exists():
        for line in SECRETS.read_text().splitlines():
            name, _, value = line.partition("=")
            kept[name] = value
    for name, size in GENERATED.items():
        if name not in kept:
            kept[name] = secrets.token_hex(size)
    STATE.mkdir(exist_ok=True)
    SECRETS.touch(mode=0o600)
    SECRETS.write_text("".join(f"{name}={kept[name]}\n" for name in GENERATED))
    return {name: os.environ.get(name) or kept[name] for name in GENERATED}


VARIABLE = re.compile(r"\$(?:\$|\{(\w+)(?:(:?[-?])([^}]*))?\})")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?message}` and `$$`, everywhere."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, operator, word = match.groups()
        if name is None:
            return "$"
        found = env.get(name)
        missing = found is None or (found == "" and operator is not None and ":" in operator)
        if missing and operator and operator.endswith("?"):
            raise SystemExit(f"{name}: {word}")
        if missing and operator:
            return str(word)
        return found or ""

    return VARIABLE.sub(one, value)


def load() -> dict[str, Any]:
    """docker-compose.yml with the override, checked against the specification, interpolated."""
    merged: dict[str, Any] = {}
    for path in FILES:
        merged = merge(merged, yaml.safe_load(path.read_text()))
    merged = {key: value for key, value in merged.items() if not key.startswith("x-")}
    native = compose_spec.PyOptions(apply_merge=True).from_yaml(yaml.safe_dump(merged))
    compose_spec.PyCompose(native).validate()  # type: ignore[call-arg]  # the .pyi lags
    return dict(interpolate(merged, {**os.environ, **load_secrets()}))


def seconds(duration: str | int | float) -> int:
    """A compose duration (`30s`, `1m30s`) in whole seconds."""
    if isinstance(duration, int | float):
        return int(duration)
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", duration))


def names(compose: dict[str, Any], service: str) -> list[str]:
    """The containers of `service`: project-service-N for each replica."""
    replicas = int(compose["services"][service].get("deploy", {}).get("replicas", 1))
    return [f"{compose['name']}-{service}-{n}" for n in range(1, replicas + 1)]


def network_name(compose: dict[str, Any], network: str) -> str:
    return f"{compose['name']}_{network}"


def ca_bundle() -> str | None:
    """The machine's CA bundle, which pip is configured with (registries answer TLS with it)."""
    out = subprocess.run(
        ["python3", "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout  # the machine's pip: the project's .venv (uv) has none
    for line in out.splitlines():
        if line.split("=", 1)[0].endswith(".cert"):
            return line.split("=", 1)[1].strip().strip("'\"")
    return os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")


def build(compose: dict[str, Any]) -> None:
    """Each image with a `build` section, once, from the Dockerfile (podman's layer cache)."""
    built: set[str] = set()
    bundle = ca_bundle()
    for service in compose["services"].values():
        spec, image = service.get("build"), service["image"]
        if spec is None or image in built:
            continue
        spec = {"context": spec} if isinstance(spec, str) else spec
        # The host's network for RUN steps: a container on podman's default network (netavark)
        # cannot resolve names on this kind of machine; the host reaches the registries.
        args = ["build", "--layers", "--network", "host"]
        for name, value in (spec.get("args") or {}).items():
            args += ["--build-arg", f"{name}={value}"]
        if bundle:  # only while the build runs; no layer holds it
            args += ["--volume", f"{bundle}:/etc/ssl/certs/ca-certificates.crt:ro"]
        context = ROOT / spec.get("context", ".")
        dockerfile = context / spec.get("dockerfile", "Dockerfile")
        args += ["-f", str(dockerfile)]
        print(f"== building {image} from the Dockerfile", flush=True)
        started = time.monotonic()
        # Each earlier stage tagged too (`vividly-notify:build`), so that pruning what the new
        # build superseded keeps the layers the next build reuses (the locked dependencies).
        for stage in re.findall(r"^FROM \S+ AS (\S+)$", dockerfile.read_text(), re.M | re.I):
            tag = f"{image.rsplit(':', 1)[0]}:{stage}"
            podman(*args, "--target", stage, "-t", tag, str(context), quiet=True)
        podman(*args, "-t", image, str(context), quiet=True)
        podman("image", "prune", "--force", quiet=True)
        print(f"== built {image} in {time.monotonic() - started:.0f} s", flush=True)
        built.add(image)


def nginx_config(gateway: str) -> None:
    """deploy/nginx.conf with the resolver of the stack's network instead of Docker's."""
    text = (ROOT / "deploy/nginx.conf").read_text()
    new, count = re.subn(r"^(\s*resolver) 127\.0\.0\.11 ", rf"\1 {gateway} ", text, flags=re.M)
    if count != 1:
        raise SystemExit("deploy/nginx.conf: expected one `resolver 127.0.0.11` line")
    STATE.mkdir(exist_ok=True)
    (STATE / "nginx.conf").write_text(new)


def create_network(compose: dict[str, Any], network: str) -> None:
    spec = compose["networks"][network] or {}
    name = network_name(compose, network)
    args = ["network", "create", "--label", f"com.docker.compose.project={compose['name']}"]
    for pool in (spec.get("ipam") or {}).get("config", []):
        args += ["--subnet", pool["subnet"]]
        if "ip_range" in pool:
            args += ["--ip-range", pool["ip_range"]]
        gateway = pool.get("gateway") or str(next(ipaddress.ip_network(pool["subnet"]).hosts()))
        args += ["--gateway", gateway]
        nginx_config(gateway)  # its DNS server answers on the gateway (dnsname)
    podman(*args, name, quiet=True)


def run_args(compose: dict[str, Any], service: str, name: str, number: int) -> list[str]:
    """`podman run` for one container of `service`."""
    spec = compose["services"][service]
    project = compose["name"]
    args = ["run", "-d", "--name", name, "--hostname", name]
    args += ["--label", f"com.docker.compose.project={project}"]
    args += ["--label", f"com.docker.compose.service={service}"]
    args += ["--label", f"com.docker.compose.container-number={number}"]
    for network, attached in _networks(spec).items():
        args += ["--network", network_name(compose, network), "--network-alias", service]
        if attached and attached.get("ipv4_address"):
            args += ["--ip", attached["ipv4_address"]]
    if spec.get("restart"):
        args += ["--restart", spec["restart"]]
    if "stop_grace_period" in spec:
        args += ["--stop-timeout", str(seconds(spec["stop_grace_period"]))]
    for variable, value in (spec.get("environment") or {}).items():
        args += ["--env", f"{variable}={value}"]
    for volume in spec.get("volumes", []):
        source, target, *mode = volume.split(":")
        if source.startswith((".", "/")):
            source = str((ROOT / source).resolve())
        else:
            source = f"{project}_{source}"
        args += ["--volume", ":".join([source, target, *mode])]
    for port in spec.get("ports", []):
        args += ["--publish", str(port)]
    for limit, value in (spec.get("ulimits") or {}).items():
        soft, hard = (value, value) if isinstance(value, int) else (value["soft"], value["hard"])
        args += ["--ulimit", f"{limit}={soft}:{hard}"]
    args.append(spec["image"])
    command = spec.get("command")
    if command:
        args += shlex.split(command) if isinstance(command, str) else command
    return args


def _networks(spec: dict[str, Any]) -> dict[str, Any]:
    networks = spec.get("networks") or {"default": None}
    return {name: None for name in networks} if isinstance(networks, list) else networks


def wait_for(what: str, check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def healthy(compose: dict[str, Any], service: str, name: str) -> bool:
    """The service's compose healthcheck passes in container `name`. Run here with `podman
    exec`: podman's own healthchecks need systemd timers, and systemd is not PID 1 here."""
    kind, *command = compose["services"][service]["healthcheck"]["test"]
    if kind == "CMD-SHELL":
        command = ["/bin/sh", "-c", command[0]]
    result = subprocess.run(
        ["podman", "exec", name, *command],
        env={**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)},
        capture_output=True,
    )
    return result.returncode == 0


def completed(name: str) -> bool:
    state = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name, quiet=True)
    status, code = state.split()
    if status == "exited" and code != "0":
        print(f"== {name} exited with {code}; its restart policy decides", flush=True)
    return status == "exited" and code == "0"


def order(compose: dict[str, Any]) -> list[str]:
    """The services, each after everything it depends on."""
    done: list[str] = []

    def visit(service: str) -> None:
        if service in done:
            return
        for dependency in _depends_on(compose["services"][service]):
            visit(dependency)
        done.append(service)

    for service in compose["services"]:
        visit(service)
    return done


def _depends_on(spec: dict[str, Any]) -> dict[str, str]:
    depends = spec.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: "service_started" for name in depends}
    return {
        name: (value or {}).get("condition", "service_started") for name, value in depends.items()
    }


def proxy_serving() -> bool:
    """The proxy answers the app's page (readiness is each replica's, asked inside the
    network: the proxy answers 404 for /readyz)."""
    try:
        with urllib.request.urlopen(f"{URL}/", timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def up() -> None:
    started = time.monotonic()
    compose = load()
    if podman(
        "ps", "-aq", "--filter", f"label=com.docker.compose.project={compose['name']}", quiet=True
    ).strip():
        raise SystemExit("the stack is already up (make stack-down first)")
    build(compose)
    for network in compose.get("networks", {}):
        create_network(compose, network)
    for volume in compose.get("volumes", {}):
        podman(
            "volume",
            "create",
            "--label",
            f"com.docker.compose.project={compose['name']}",
            f"{compose['name']}_{volume}",
            quiet=True,
        )
    for service in order(compose):
        for dependency, condition in _depends_on(compose["services"][service]).items():
            for name in names(compose, dependency):
                if condition == "service_healthy":
                    wait_for(
                        f"{name} to be healthy",
                        lambda d=dependency, n=name: healthy(compose, d, n),
                        120,
                    )
                elif condition == "service_completed_successfully":
                    wait_for(f"{name} to complete", lambda n=name: completed(n), 180)
        for number, name in enumerate(names(compose, service), start=1):
            podman(*run_args(compose, service, name, number), quiet=True)
            print(f"== started {name}", flush=True)
    for name in names(compose, "api"):
        wait_for(f"{name} to be ready", lambda n=name: healthy(compose, "api", n), 120)
    wait_for(f"{URL} through the proxy", proxy_serving, 60)
    replicas = len(names(compose, "api"))
    print(
        f"== the stack is ready on {URL} ({replicas} api replicas behind nginx) after "
        f"{time.monotonic() - started:.0f} s; `make stack-down` removes it",
        flush=True,
    )


def down() -> None:
    compose = load()
    project = compose["name"]
    label = f"label=com.docker.compose.project={project}"
    for service in reversed(order(compose)):  # dependants first, each with its grace period
        containers = podman(
            "ps",
            "-aq",
            "--filter",
            label,
            "--filter",
            f"label=com.docker.compose.service={service}",
            quiet=True,
        ).split()
        if containers:
            grace = seconds(compose["services"][service].get("stop_grace_period", "10s"))
            podman("stop", "--time", str(grace), *containers, quiet=True)
            podman("rm", "--force", *containers, quiet=True)
            print(f"== removed {service} ({len(containers)})", flush=True)
    leftovers = podman("ps", "-aq", "--filter", label, quiet=True).split()  # e.g. a test's own
    if leftovers:
        podman("rm", "--force", *leftovers, quiet=True)
    for volume in podman("volume", "ls", "-q", "--filter", label, quiet=True).split():
        podman("volume", "rm", "--force", volume, quiet=True)
        print(f"== removed volume {volume}", flush=True)
    for network in podman("network", "ls", "-q", "--filter", label, quiet=True).split():
        podman("network", "rm", "--force", network, quiet=True)
        print(f"== removed network {network}", flush=True)
    print("== the stack is down; the images stay (base images and build layers are caches)")


def check() -> None:
    """Exit 0 when podman is installed and can run a container here."""
    try:
        podman("info", quiet=True)
    except (OSError, SystemExit) as error:
        raise SystemExit(f"podman cannot run here: {error}") from None


if __name__ == "__main__":
    {"up": up, "down": down, "check": check}[sys.argv[1]]()
