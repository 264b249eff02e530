"""The shutdown budget adds up: what a `serve` process may take after SIGTERM (not ready, drain,
requests, a push in flight, the last flush: `service/shutdown.py`) fits within compose's
`stop_grace_period` and the `terminationGracePeriodSeconds` of deploy/k8s/api.yaml (which also
counts the `preStop` hook), so the platform's kill never cuts a push in flight or
the last flush of delivery records."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from service.channels.push import keys as push_keys
from service.ops.shutdown import Budget, budget
from service.settings import Settings
from tests.support.deploy import ROOT, load_compose

MARGIN = 2.0  # seconds the platform's grace keeps above the budget (scheduling, a slow exit)


def seconds(duration: Any) -> float:
    """A compose duration (`30s`, `1m30s`, or a number of seconds) in seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    total, units = 0.0, {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(duration)):
        total += float(number) * units[unit]
    return total


def worst_case(environment: dict[str, Any]) -> Budget:
    """The budget of a replica with the compose environment's settings and Web Push on."""
    public, private = push_keys.new_pair()
    values = {
        name.lower(): value
        for name, value in environment.items()
        if name.lower() in Settings.model_fields and "${" not in str(value)
    }
    settings = Settings(
        **values,
        vapid_public_key=public,
        vapid_private_key=SecretStr(private),
        vapid_subject="mailto:ops@school.example",
        public_url="https://notify.school.example",
    )
    assert settings.push_enabled
    return budget(settings)


@pytest.fixture(scope="module")
def api() -> dict[str, Any]:
    service: dict[str, Any] = load_compose((ROOT / "docker-compose.yml").read_text())["services"][
        "api"
    ]
    return service


def test_compose_waits_longer_than_the_api_may_take(api: dict[str, Any]) -> None:
    needed = worst_case(api["environment"]).total
    assert seconds(api["stop_grace_period"]) >= needed + MARGIN, needed


def test_the_kubernetes_api_waits_longer_than_pre_stop_plus_the_budget(
    api: dict[str, Any],
) -> None:
    [deployment] = [
        doc
        for doc in yaml.safe_load_all((ROOT / "deploy/k8s/api.yaml").read_text())
        if doc["kind"] == "Deployment"
    ]
    pod = deployment["spec"]["template"]["spec"]
    grace = pod["terminationGracePeriodSeconds"]
    [container] = pod["containers"]
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    needed = worst_case(api["environment"]).total
    assert grace >= pre_stop + needed + MARGIN, (grace, pre_stop, needed)


def test_the_guide_states_the_budget_the_defaults_give() -> None:
    guide = (ROOT / "docs/deployment.md").read_text()
    plain = budget(Settings())
    assert f"**{plain.total:g} s**" in guide, plain


def test_a_push_in_flight_fits_in_the_budget() -> None:
    # A push longer than the phases before the final one gets the rest added to the budget.
    public, private = push_keys.new_pair()
    slow = Settings(
        vapid_public_key=public,
        vapid_private_key=SecretStr(private),
        vapid_subject="mailto:ops@school.example",
        public_url="https://notify.school.example",
        push_timeout_seconds=30,
    )
    spent = budget(slow)
    before_final = spent.unready + spent.drain + spent.requests + spent.push
    assert before_final >= slow.push_timeout_seconds
