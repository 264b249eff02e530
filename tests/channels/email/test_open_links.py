"""The digest's open links are opaque: the URL shows neither the student nor the notification,
and only this key's live links verify (links mailed before v2 too, until they expire)."""

from __future__ import annotations

import base64
import binascii
import uuid

import pytest

from service.channels.email.open_links import OpenLinks
from service.channels.email.signed_links import InvalidLink

KEY = b"a key that is long enough to sign and seal with"
NOW = 1_800_000_000.0
DAY = 86400.0


def links(clock: float = NOW, key: bytes = KEY) -> OpenLinks:
    return OpenLinks(
        key, base_url="https://notify.example", max_age_seconds=30 * DAY, clock=lambda: clock
    )


def decodings(token: str) -> list[bytes]:
    """What anyone can read out of `token`: its base64 decodings at every alignment."""
    out = []
    for part in [token, *token.split(".")]:
        for start in range(4):
            chunk = part[start:]
            try:
                out.append(base64.urlsafe_b64decode(chunk + "=" * (-len(chunk) % 4)))
            except (binascii.Error, ValueError):
                continue
    return out


def test_a_link_shows_neither_the_student_nor_the_notification() -> None:
    student, notification = uuid.uuid4(), 987654321
    token = links().token(student, notification)
    assert student.hex not in token
    assert str(student) not in token
    readable = decodings(token)
    assert readable
    for plain in readable:
        assert student.bytes not in plain
        assert str(student).encode() not in plain
        assert str(notification).encode() not in plain
        assert notification.to_bytes(8, "big") not in plain
    assert links().token(student, notification) != token  # a new IV every time
    assert links().verify(token).user_id == student
    assert links().verify(token).notification_id == notification


def test_only_this_keys_live_links_verify() -> None:
    student = uuid.uuid4()
    token = links().token(student, 7)
    assert links(NOW + 29 * DAY).verify(token).notification_id == 7
    with pytest.raises(InvalidLink, match="expired"):
        links(NOW + 31 * DAY).verify(token)
    with pytest.raises(InvalidLink, match="incomplete or was changed"):
        links(key=b"another key that is long enough to sign with").verify(token)
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    for bad in [flipped, token[:-10], token + "x", "gAAAAA", "gAAAAAé"]:
        with pytest.raises(InvalidLink):
            links().verify(bad)


def test_links_mailed_before_v2_still_verify_until_they_expire() -> None:
    student = uuid.uuid4()
    legacy = links().legacy_token(student, 42)
    assert links(NOW + DAY).verify(legacy).notification_id == 42
    with pytest.raises(InvalidLink, match="expired"):
        links(NOW + 31 * DAY).verify(legacy)


def test_a_link_dated_in_the_future_is_refused() -> None:
    ahead = links(NOW + 10 * 365 * DAY).token(uuid.uuid4(), 7)  # a clock ten years fast
    with pytest.raises(InvalidLink, match="future"):
        links().verify(ahead)
    assert links().verify(links(NOW + 30).token(uuid.uuid4(), 7)).notification_id == 7
