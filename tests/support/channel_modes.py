"""Both channel modes for the tests that prove live delivery: import `channel_mode` into a test
module (or a folder's conftest.py) and its database tests run once per mode.

Shard mode with 8 shards: few channels, and users of one process share them.

TEST_CHANNEL_MODES (ids, comma-separated: `per-user`, `shards`) narrows that to the modes named,
the others deselected (tests/conftest.py), except in a module that sets `EVERY_CHANNEL_MODE =
True`. The Makefile's second pass on the system PostgreSQL sets it to `per-user`: what differs
between the modes on the server (the shard channels' LISTENs, the mode switch) is the
listener's, and tests/live/test_listener.py keeps both there; the rest of shard mode is our own
fan-out in Python, proven on the embedded Postgres, the same on any version.
"""

from __future__ import annotations

import os

import pytest

from service.live.channel_mode import PER_USER, ChannelMode

MODES = [PER_USER, ChannelMode(8)]
IDS = ["per-user", "shards"]


def selected_ids() -> list[str]:
    """The ids TEST_CHANNEL_MODES names (all of them when it is unset or empty)."""
    named = [part.strip() for part in os.environ.get("TEST_CHANNEL_MODES", "").split(",")]
    named = [part for part in named if part]
    unknown = sorted(set(named) - set(IDS))
    if unknown:
        raise pytest.UsageError(f"TEST_CHANNEL_MODES: unknown {unknown}, known {IDS}")
    return named or IDS


def deselected(item: pytest.Item) -> bool:
    """Whether TEST_CHANNEL_MODES leaves out this test's channel mode."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or "channel_mode" not in callspec.params:
        return False
    if getattr(getattr(item, "module", None), "EVERY_CHANNEL_MODE", False):
        return False
    return IDS[MODES.index(callspec.params["channel_mode"])] not in selected_ids()


@pytest.fixture(scope="module", params=MODES, ids=IDS)
def channel_mode(request: pytest.FixtureRequest) -> ChannelMode:
    """This module's database runs in each channel mode in turn."""
    mode: ChannelMode = request.param
    return mode
