"""Channel names and batched LISTEN statements."""

from __future__ import annotations

import uuid

import pytest

from service.channels import LISTEN_BATCH, channel_of, statements, user_of


def test_channel_round_trip() -> None:
    user = uuid.uuid4()
    assert channel_of(user) == f"notifications:{user}"
    assert user_of(channel_of(user)) == user


@pytest.mark.parametrize("channel", ["notifications:alice", "other:" + str(uuid.uuid4()), ""])
def test_foreign_channels_are_refused(channel: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        user_of(channel)


def test_statements_are_quoted_and_batched() -> None:
    users = [uuid.uuid4() for _ in range(LISTEN_BATCH + 3)]
    batches = statements("LISTEN", users)
    assert len(batches) == 2
    assert batches[0].count("LISTEN ") == LISTEN_BATCH
    assert batches[1] == "; ".join(f'LISTEN "notifications:{u}"' for u in users[-3:])
