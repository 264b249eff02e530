"""Both channel modes for the tests that prove live delivery: import `channel_mode` into a test
module (or a folder's conftest.py) and its database tests run once per mode.

Shard mode with 8 shards: few channels, and users of one process share them.
"""

from __future__ import annotations

import pytest

from service.live.channel_mode import PER_USER, ChannelMode

MODES = [PER_USER, ChannelMode(8)]


@pytest.fixture(scope="module", params=MODES, ids=["per-user", "shards"])
def channel_mode(request: pytest.FixtureRequest) -> ChannelMode:
    """This module's database runs in each channel mode in turn."""
    mode: ChannelMode = request.param
    return mode
