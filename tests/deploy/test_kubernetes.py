"""The Kubernetes manifests (deploy/k8s/), checked without a cluster (none runs here).

Each resource validates, strictly (no unknown field), against the Kubernetes JSON schemas of
the oldest version the manifests need (1.30: `preStop.sleep`) and the newest the validator
ships (the `kubernetes-validate` package, its schemas installed with it from PyPI); and each
says what the service needs: the api's probes are /readyz and /healthz on the port it serves,
its grace covers preStop and the shutdown budget (test_shutdown_budget.py), the commands are
`vividly-notify` commands, the settings are settings, the pods run as the image's user, the
Ingress streams unbuffered with timeouts above the keepalive, the PodDisruptionBudget and the
Service select the api's pods.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service import cli
from service.settings import Settings
from tests.support.deploy import ROOT

MANIFESTS = sorted((ROOT / "deploy/k8s").glob("*.yaml"))
OLDEST = "1.30.0"  # preStop `sleep` (beta, on by default) came with 1.30
LIBRARY_VARIABLES = {"FORWARDED_ALLOW_IPS"}  # read by uvicorn (tests/deploy/test_deploy.py)


def resources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in MANIFESTS:
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def one(kind: str, name: str) -> dict[str, Any]:
    [found] = [r for r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def container(workload: dict[str, Any]) -> dict[str, Any]:
    [found] = workload["spec"]["template"]["spec"]["containers"]
    return dict(found)


@pytest.mark.parametrize("version", [OLDEST, kubernetes_validate.utils.latest_version()])
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_each_manifest_follows_the_kubernetes_schemas(path: Path, version: str) -> None:
    for resource in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(resource, version, strict=True)


def test_the_validator_rejects_what_the_api_server_would() -> None:
    api = one("Deployment", "vividly-notify")
    spec = api["spec"]["template"]["spec"]
    misspelt = {**api, "spec": {**api["spec"], "template": {**api["spec"]["template"],
                "spec": {**spec, "terminationGracePeriod": 35}}}}  # fmt: skip
    with pytest.raises(kubernetes_validate.ValidationError, match="terminationGracePeriod"):
        kubernetes_validate.validate(misspelt, OLDEST, strict=True)
    # preStop `sleep` is unknown to 1.28 (1.29 has it behind an alpha gate, 1.30 on by default).
    with pytest.raises(kubernetes_validate.ValidationError, match="sleep"):
        kubernetes_validate.validate(api, "1.28.0", strict=True)


def test_the_api_is_probed_on_readiness_and_liveness() -> None:
    api = container(one("Deployment", "vividly-notify"))
    name, *args = api["args"]
    assert name == "serve"
    port = int(args[args.index("--port") + 1])
    [served] = api["ports"]
    assert served["containerPort"] == port
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": served["name"]}
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": served["name"]}
    # /readyz answers within 0.5 s (docs "Health and readiness"): a 1 s timeout holds.
    assert api["readinessProbe"]["timeoutSeconds"] >= 1


def test_each_command_is_one_of_ours() -> None:
    for workload in (
        one("Deployment", "vividly-notify"),
        one("Deployment", "vividly-worker"),
        one("Job", "vividly-migrate"),
    ):
        name, *args = container(workload)["args"]
        cli.main.commands[name].make_context(name, list(args))
    assert container(one("Job", "vividly-migrate"))["args"] == ["migrate"]
    job = one("Job", "vividly-migrate")["spec"]
    assert job["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert job["backoffLimit"] >= 1


def test_settings_are_settings_and_secrets_come_from_a_secret() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    config = one("ConfigMap", "vividly-notify")["data"]
    assert set(config) <= settings | LIBRARY_VARIABLES
    assert config["FORWARDED_ALLOW_IPS"] != "*"
    for variable in ("JWT_SECRET", "DATABASE_URL", "METRICS_TOKEN", "PASSWORD"):
        assert not any(variable in name for name in config)
    for workload in (
        one("Deployment", "vividly-notify"),
        one("Deployment", "vividly-worker"),
        one("Job", "vividly-migrate"),
    ):
        sources = container(workload)["envFrom"]
        assert {"secretRef": {"name": "vividly-notify"}} in sources
        assert {"configMapRef": {"name": "vividly-notify"}} in sources
        for variable in container(workload).get("env", []):
            assert variable["name"] in settings, variable
    assert not [r for r in resources() if r["kind"] == "Secret"]  # made by the operator


def test_pods_run_as_the_images_user_without_privileges() -> None:
    [uid] = re.findall(r"useradd .*--uid (\d+)", (ROOT / "Dockerfile").read_text())
    for workload in (
        one("Deployment", "vividly-notify"),
        one("Deployment", "vividly-worker"),
        one("Job", "vividly-migrate"),
    ):
        pod = workload["spec"]["template"]["spec"]["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["runAsUser"] == int(uid)
        security = container(workload)["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]


def test_the_worker_outlasts_its_own_shutdown_grace() -> None:
    worker = one("Deployment", "vividly-worker")
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > Settings.model_fields["worker_shutdown_grace_seconds"].default
    port = {v["name"]: v["value"] for v in container(worker)["env"]}["WORKER_METRICS_PORT"]
    assert [p["containerPort"] for p in container(worker)["ports"]] == [int(port)]


def test_the_ingress_streams_unbuffered_and_never_cuts_a_quiet_stream() -> None:
    ingress = one("Ingress", "vividly-notify")
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    keepalive = Settings.model_fields["keepalive_seconds"].default
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[f"nginx.ingress.kubernetes.io/{timeout}"]) > 2 * keepalive
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    service = one("Service", path["backend"]["service"]["name"])
    assert path["backend"]["service"]["port"]["name"] in {
        p["name"] for p in service["spec"]["ports"]
    }


def test_the_service_and_the_disruption_budget_select_the_api_pods() -> None:
    api = one("Deployment", "vividly-notify")
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert api["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert one("Service", "vividly-notify")["spec"]["selector"].items() <= labels.items()
    budget = one("PodDisruptionBudget", "vividly-notify")["spec"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()
    assert budget["maxUnavailable"] < api["spec"]["replicas"]
    rollout = api["spec"]["strategy"]["rollingUpdate"]
    assert (rollout["maxUnavailable"], rollout["maxSurge"]) == (0, 1)  # one at a time
