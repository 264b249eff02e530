"""Channel modes without a database: which channels a listener LISTENs, and whose a
notification is (the database's side: tests/migrations/test_notify_channels.py)."""

from __future__ import annotations

import uuid

import pytest

from service.live.channel_mode import PER_USER, ChannelMode, heard


def test_per_user_listens_one_channel_per_user_and_shards_a_fixed_set() -> None:
    users = [uuid.uuid4() for _ in range(3)]
    assert PER_USER.channels(users) == [f"notifications:{user}" for user in users]
    assert PER_USER.fixed_channels() == []
    shards = ChannelMode(4)
    assert shards.channels(users) == [f"notifications:shard:{n}" for n in range(4)]
    assert shards.user_channels(users) == []
    assert (str(PER_USER), str(shards)) == ("per-user", "shards (4)")


def test_the_user_comes_from_the_channel_or_from_a_shards_payload() -> None:
    user = uuid.uuid4()
    message = '{"event": "notification", "id": 7}'
    assert heard(f"notifications:{user}", message) == (user, {"event": "notification", "id": 7})
    on_shard = f'{{"event": "notification", "id": 7, "user": "{user}"}}'
    # The routing field is removed: what is handed on is the same in both modes.
    assert heard("notifications:shard:3", on_shard) == (user, {"event": "notification", "id": 7})


@pytest.mark.parametrize(
    ("channel", "payload"),
    [
        ("notifications:shard:1", '{"event": "notification", "id": 7}'),  # no user
        ("notifications:shard:1", '{"user": "alice"}'),
        ("notifications:shard:1", "[1]"),
        ("notifications:not-a-uuid", "{}"),
        ("elsewhere", "{}"),
        ("notifications:" + str(uuid.uuid4()), "not json"),
    ],
)
def test_anything_else_is_refused(channel: str, payload: str) -> None:
    with pytest.raises((ValueError, KeyError)):
        heard(channel, payload)
