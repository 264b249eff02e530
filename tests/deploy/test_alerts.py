"""deploy/prometheus/alerts.yml: valid rules (`promtool check rules`), each alert firing on its
failure and quiet on its healthy neighbour (`promtool test rules alerts_test.yml`), and every
metric it names one that the service exports (scraped from a real server)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from service.channels.backlog import BacklogMetrics
from tests.support.server import RunningServer

RULES = Path(__file__).resolve().parents[2] / "deploy/prometheus"
# Named by the rules before the listener work of issue 20 exports them (the probe's age and
# MAX_STREAMS as a gauge); once it is merged the scrape has them and this set may go.
ANNOUNCED = {"vividly_listener_probe_age_seconds", "vividly_max_streams"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which("promtool")
    if found is None and os.path.exists("/usr/bin/promtool"):
        found = "/usr/bin/promtool"
    if found is None:
        pytest.skip("Debian's promtool is not installed (`make test` installs prometheus)")
    return subprocess.run([found, *args], cwd=RULES, capture_output=True, text=True)


def test_the_rules_are_valid() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_each_alert_fires_on_its_failure() -> None:
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = set(re.findall(r"^\s*- alert: (\w+)$", (RULES / "alerts.yml").read_text(), re.M))
    covered = set(re.findall(r"alertname: (\w+)$", (RULES / "alerts_test.yml").read_text(), re.M))
    assert alerts
    assert alerts == covered, alerts ^ covered


async def test_every_metric_the_rules_name_is_exported(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        scraped = (await client.get("/metrics")).text
    features = CollectorRegistry()  # the backlog gauges exist only with push and email on
    BacklogMetrics(features, push=True, digest=True)
    exposition = scraped + generate_latest(features).decode()
    exported = set(re.findall(r"^(\w+)[{ ]", exposition, re.M))  # samples seen so far
    suffixes = {"counter": ["", "_total"], "histogram": ["_bucket", "_count", "_sum"]}
    for name, kind in re.findall(r"^# TYPE (\w+) (\w+)$", exposition, re.M):
        # Families with no sample yet (nothing closed, crashed or requested): the type says.
        exported |= {name.removesuffix("_total") + suffix for suffix in suffixes.get(kind, [""])}
    named = set(re.findall(r"\bvividly_\w+", (RULES / "alerts.yml").read_text()))
    assert named
    missing = named - exported - ANNOUNCED
    assert not missing, f"alerts.yml names metrics nobody exports: {sorted(missing)}"


def test_the_example_scrape_config_reaches_every_process_directly() -> None:
    checked = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = (RULES / "prometheus.yml").read_text()
    compose = (RULES.parents[1] / "docker-compose.yml").read_text()
    [api_port] = re.findall(r'command: \["serve", "--port", "(\d+)"\]', compose)
    [worker_port] = re.findall(r'WORKER_METRICS_PORT: "(\d+)"', compose)
    assert re.search(rf"names: \[api\]\n\s+type: A\n\s+port: {api_port}\n", config)
    assert re.search(rf"names: \[worker\]\n\s+type: A\n\s+port: {worker_port}\b", config)
    assert config.count("credentials_file:") == 2  # METRICS_TOKEN for both
