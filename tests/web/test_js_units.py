"""The client package's logic that needs no server: `node --test` on tests/web/js/*.test.mjs.

Node (which `make test` needs anyway for the React seed build) runs the package's modules with
the browser APIs they use faked or, like BroadcastChannel and EventTarget, Node's own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).parent / "js"


@pytest.mark.parametrize("unit", sorted(p.name for p in UNITS.glob("*.test.mjs")))
def test_node_unit(unit: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: the client package's unit tests run on Node 20+")
    run = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(UNITS / unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
