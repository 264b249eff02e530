"""The stack tests need the running stack: `make stack` (which `make test` runs for them, in a
stage of its own after the main suite: `make test-stack`). Without podman they skip and say why;
with podman but no stack they fail, since `make test` would have started it. The marker `stack`
keeps them out of a plain `pytest` run: `.venv/bin/pytest -m stack tests/stack` runs them."""

from __future__ import annotations

import httpx
import pytest

from tests.support.stack import REPLICAS, URL, podman, readiness, why_podman_cannot_run


@pytest.fixture(scope="session", autouse=True)
def stack() -> None:
    reason = why_podman_cannot_run()
    if reason is not None:
        pytest.skip(f"no container stack on this machine: {reason}")
    try:
        status = httpx.get(f"{URL}/", timeout=5).status_code
    except httpx.HTTPError as error:
        pytest.fail(f"the stack is not up at {URL} ({error}): run `make stack` first")
    assert status == 200, f"{URL}/ is {status}"
    running = podman("ps", "--format", "{{.Names}}").split()
    assert set(REPLICAS) <= set(running), running
    assert [readiness(name) for name in REPLICAS] == [200] * len(REPLICAS)
