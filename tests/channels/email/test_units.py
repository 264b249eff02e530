"""The digest's parts that need no database: settings, links, the message."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from service.channels.email import message
from service.channels.email.signed_links import InvalidLink, UnsubscribeLinks
from service.channels.push import message as push_message
from service.http.auth import mint_token
from service.settings import Settings
from tests.support.digest import parse_html

SECRET = "unit-test-secret-0123456789-abcdefghij"


def settings(**values: Any) -> Settings:
    return Settings(**{"jwt_secret": SECRET, **values})


def test_production_defaults_are_an_hour_a_day_a_week_and_off() -> None:
    defaults = Settings()
    assert defaults.smtp_host is None
    assert defaults.digest_period_seconds == {"hourly": 3600, "daily": 86400, "weekly": 604800}
    assert defaults.digest_min_age_seconds == 900


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("SMTP_TLS", "TLS")
    monkeypatch.setenv("EMAIL_FROM", "Vividly <digest@Example.com>")
    monkeypatch.setenv("DIGEST_PERIOD_SECONDS", '{"hourly": 1, "daily": 2, "weekly": 3}')
    monkeypatch.setenv("SMTP_PASSWORD", "p4ss")
    monkeypatch.setenv("SMTP_USERNAME", "digest")
    monkeypatch.setenv("PUBLIC_URL", "https://notify.example")
    loaded = Settings()
    assert (loaded.smtp_tls, loaded.smtp_port_or_default) == ("tls", 465)
    assert loaded.digest_period_seconds == {"hourly": 1, "daily": 2, "weekly": 3}
    assert "p4ss" not in repr(loaded)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"smtp_host": "smtp.example.com"}, "EMAIL_FROM"),
        ({"smtp_host": "smtp.example.com", "email_from": "nobody"}, "EMAIL_FROM"),
        ({"smtp_host": "h.example", "email_from": "a@example.com, b@example.com"}, "one address"),
        ({"digest_period_seconds": '{"hourly": 1}'}, "DIGEST_PERIOD_SECONDS"),
        ({"digest_period_seconds": '{"hourly": 0, "daily": 1, "weekly": 1}'}, "positive"),
        ({"digest_period_seconds": "not json"}, "JSON"),
        ({"digest_secret": "short"}, "DIGEST_SECRET"),
        ({"smtp_tls": "ssl"}, "smtp_tls"),
        (
            {"smtp_host": "h.example", "email_from": "a@example.com", "smtp_username": "u"},
            "SMTP_PASSWORD",
        ),
        ({"smtp_host": "h.example", "email_from": "a@example.com"}, "set PUBLIC_URL"),
        (
            {
                "smtp_host": "mail.example",
                "smtp_tls": "none",
                "email_from": "a@example.com",
                "public_url": "https://notify.example",
            },
            "SMTP_TLS=none .* only with an SMTP_HOST on this machine",
        ),
        (
            {
                "smtp_host": "10.0.0.5",
                "smtp_tls": "none",
                "email_from": "a@example.com",
                "public_url": "https://notify.example",
            },
            "SMTP_TLS=none",
        ),
        ({"smtp_timeout_seconds": 601}, "smtp_timeout_seconds"),
    ],
)
def test_settings_that_cannot_send_are_refused(values: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        settings(**values)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.3.2.1", "::1", "[::1]"])
def test_plain_smtp_is_allowed_on_the_loopback(host: str) -> None:
    sending = settings(
        smtp_host=host,
        smtp_tls="none",
        email_from="a@example.com",
        public_url="https://notify.example",
    )
    assert sending.smtp_port_or_default == 25


def test_rs256_with_smtp_needs_a_digest_secret() -> None:
    with pytest.raises(ValidationError, match="DIGEST_SECRET"):
        Settings(jwt_algorithm="RS256", smtp_host="h.example", email_from="digest@example.com")


def links(**values: Any) -> UnsubscribeLinks:
    made = UnsubscribeLinks.from_settings(settings(public_url="https://notify.example", **values))
    assert made is not None
    return made


def test_a_link_names_its_student_and_address_only() -> None:
    student = uuid.uuid4()
    own = links()
    url = own.url(student, "Student@example.com")
    assert url.startswith("https://notify.example/api/v1/digest/unsubscribe?token=")
    assert "student" not in url.lower()  # the address is not in the URL
    named = own.verify(own.token(student, "Student@example.com"))
    assert named.user_id == student
    assert own.is_for(named, "Student@example.com")
    # Exactly the address (stored normalised): no folding, which joins different addresses.
    assert not own.is_for(named, "student@example.com")
    assert not own.is_for(named, "other@example.com")


def test_links_are_refused_when_not_made_by_this_key_or_expired() -> None:
    student = uuid.uuid4()
    own = links()
    token = own.token(student, "a@example.com")
    with pytest.raises(InvalidLink, match="incomplete or was changed"):
        links(digest_secret="another-digest-secret-0123456789-abcdef").verify(token)
    later = UnsubscribeLinks.from_settings(
        settings(public_url="https://notify.example"), clock=lambda: 4_000_000_000.0
    )
    assert later is not None
    with pytest.raises(InvalidLink, match="expired"):
        later.verify(token)
    # An access token (signed with JWT_SECRET itself) is not a link, nor is a link a token.
    access = mint_token(student, settings())
    with pytest.raises(InvalidLink):
        own.verify(access)


def item(n: int, text: str | None = "Photosynthesis") -> message.Item:
    return message.Item(
        label="Your video is ready",
        text=text,
        link=f"https://app.example/watch/{n}",
        created_at=datetime(2026, 11, 27, tzinfo=UTC),
    )


def test_a_long_digest_lists_the_first_and_counts_the_rest() -> None:
    built = message.build(
        settings(email_from="digest@example.com", public_url="https://notify.example"),
        to="s@example.com",
        items=[item(1), item(2, None)],
        total=7,
        unsubscribe_url="https://notify.example/api/v1/digest/unsubscribe?token=t&x=1",
        message_uuid=uuid.uuid4(),
        date=datetime(2026, 11, 27, tzinfo=UTC),
    )
    assert built["Subject"] == "Your video is ready, and 6 more"  # no title: the heading
    text = built.get_body(("plain",))
    html = built.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "... and 5 more: https://notify.example/" in text.get_content()
    page = parse_html(html.get_content())
    # Each row's thumbnail and button open it (these have no title to link).
    assert page.hrefs == [
        *["https://app.example/watch/1"] * 2,
        *["https://app.example/watch/2"] * 2,
        "https://notify.example/",
        "https://notify.example/preferences",
        "https://notify.example/api/v1/digest/unsubscribe?token=t&x=1",
    ]
    assert "token=t&amp;x=1" in html.get_content()  # attribute escaped, parsed back


def test_one_line_folds_breaks_and_control_characters_and_shortens() -> None:
    assert message.one_line("a\r\nb\u2028c\x00d\te") == "a b c d e"
    long = message.one_line("x" * 500)
    assert len(long) == message.MAX_TEXT
    assert long.endswith("…")


def test_links_are_signed_with_hmac_sha256() -> None:
    # itsdangerous signs with HMAC-SHA1 unless told: its 20-byte MAC is 27 base64 characters.
    signature = links().token(uuid.uuid4(), "a@example.com").rsplit(".", 1)[1]
    assert len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) == 32


@pytest.mark.parametrize(
    ("payload", "lines"),
    [
        # A failure's reason is part of its text, in the email as in the push.
        (
            {"content_id": "c", "title": " Volcanoes ", "error_message": "The renderer stopped."},
            ["Volcanoes", "The renderer stopped."],
        ),
        ({"content_id": "c", "question": "Which grade?"}, ["Which grade?"]),
        # Only strings with more than blank space count, whichever key holds one.
        ({"title": 7, "question": "Is it 2+2?"}, ["Is it 2+2?"]),
        ({"title": "   ", "error_message": None}, []),
    ],
)
def test_the_digest_and_the_push_read_the_same_text(
    payload: dict[str, Any], lines: list[str]
) -> None:
    row = {"label": "Label", "payload": payload, "created_at": datetime(2026, 11, 27, tzinfo=UTC)}
    item = message.item_from_row(row, "https://notify.example/o/1")
    assert item.text == (" — ".join(lines) or None)
    # The push says the first line, what it is about, in its title ("Label: Volcanoes").
    title, body = push_message.text("some_type", "Label", payload)
    in_title = [title.removeprefix("Label: ")] if title != "Label" else []
    assert in_title + body.splitlines() == lines
