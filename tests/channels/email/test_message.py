"""The digest email as a student's mail client gets it: inlined, email-client-safe HTML with the
product's name, one row per notification (thumbnail, title, question, when, one action), the
app's links, a subject that says what is inside, a preheader, and a plain-text part saying the
same; the confirmation email in the same style."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from service.channels.email import message, transport
from tests.support import digest_sample as sample


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each `<style>`."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def with_class(self, name: str) -> list[dict[str, str]]:
        return [a for _, a in self.elements if name in a.get("class", "").split()]


def parts(built: EmailMessage) -> tuple[str, str]:
    text, html = built.get_body(("plain",)), built.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def parsed(html: str) -> Elements:
    document = Elements()
    document.feed(html)
    return document


def test_the_html_is_inlined_and_email_client_safe() -> None:
    _, html = parts(sample.digest())
    document = parsed(html)
    [(_, root)] = [e for e in document.elements if e[0] == "html"]
    assert root["lang"] == "en"
    metas = {a.get("name"): a.get("content") for tag, a in document.elements if tag == "meta"}
    assert metas["viewport"] == "width=device-width, initial-scale=1"
    assert metas["color-scheme"] == "light dark"
    assert metas["supported-color-schemes"] == "light dark"
    # The stylesheet is inlined; only its @media rules stay in a <style>.
    style = "".join(document.styles)
    assert "@media (prefers-color-scheme: dark)" in style
    assert "@media (max-width: 480px)" in style
    assert ".title {" not in style.split("@media")[0]  # plain rules are gone from <style>
    [card] = document.with_class("card")
    assert "background-color: #ffffff" in card["style"]
    [container] = document.with_class("container")
    assert "max-width: 600px" in container["style"]
    assert all("style" in a for a in document.with_class("title"))
    assert all(a.get("role") == "presentation" for tag, a in document.elements if tag == "table")
    # Dark: the text that is dark in light mode is made light, the card dark.
    dark = style.split("@media (prefers-color-scheme: dark)")[1]
    assert re.search(r"\.title[^{]*\{ color: #f1f3f9 !important", dark)
    assert ".card { background-color: #1b1e27 !important" in dark
    # The product's name heads it.
    [brand] = document.with_class("brand")
    assert "Vividly" in html.split('class="card"')[0]
    assert "color: #4f46e5" in brand["style"]


def test_one_row_per_notification_with_a_raster_thumbnail_or_a_placeholder() -> None:
    text, html = parts(sample.digest())
    document = parsed(html)
    assert len(document.with_class("row")) == 5
    images = [a["src"] for tag, a in document.elements if tag == "img"]
    # Absolute, on PUBLIC_URL, PNG; the SVG one (mail clients show none) and the two without a
    # thumbnail get a placeholder by their action instead.
    assert images == [
        f"https://notify.example/media/thumbnails/{sample.IDS[0]}.png",
        f"https://notify.example/media/thumbnails/{sample.IDS[4]}.png",
    ]
    placeholders = [a["class"].split()[-1] for a in document.with_class("placeholder-cell")]
    assert placeholders == ["ph-retry", "ph-answer", "ph-watch"]
    # One action each, by what the notification is about.
    buttons = document.with_class("button")
    assert [a["href"] for a in buttons] == [sample.OPEN.format(n=n) for n in range(1, 6)]
    labels = re.findall(r'class="button"[^>]*>([^<]+)</a>', html)
    assert labels == ["Watch", "Try again", "Answer", "Watch", "Watch"]
    for label, n in zip(labels, range(1, 6), strict=True):
        assert f"{label}: {sample.OPEN.format(n=n)}" in text


def test_each_row_says_what_when_and_what_the_student_asked() -> None:
    text, html = parts(sample.digest())
    assert "Why is the sky blue?" in html
    assert "The renderer stopped before the end." in html
    # The student's own question, from their request, unless the title already says it.
    assert "You asked: “<span" in html
    assert "How do volcanoes erupt, and why do some of them explode?" in html
    assert "How do plants make food from light?" in html  # the clarification's title
    # Not for the sky (its title says it), the clarification (its question is its title), nor
    # the long title (no request found).
    assert html.count("You asked:") == 2
    # When: a date and time, in UTC (labelled) as no time zone is known.
    assert '<time datetime="2026-12-07T10:00:00+00:00">Mon 7 Dec, 10:00 UTC</time>' in html
    assert "\n  Sun 6 Dec, 11:00 UTC\n" in text
    assert "\n  Fri 4 Dec, 08:00 UTC\n" in text
    assert sample.LONG_TITLE in html  # whole (under the cap), wrapped by the layout
    assert sample.RTL_TITLE in html


def test_open_vividly_and_manage_preferences_in_both_parts() -> None:
    text, html = parts(sample.digest())
    assert re.search(r'href="https://notify\.example/"[^>]*>Open Vividly</a>', html)
    assert re.search(r'href="https://notify\.example/preferences"[^>]*>Manage preferences', html)
    assert "Open Vividly: https://notify.example/\n" in text
    assert "Manage preferences: https://notify.example/preferences\n" in text
    assert f'href="{sample.UNSUBSCRIBE.replace("&", "&amp;")}"' in html
    assert f"Unsubscribe: {sample.UNSUBSCRIBE}" in text


def test_a_preheader_sums_up_the_rest() -> None:
    _, html = parts(sample.digest(total=7))
    body = html.split("<body", 1)[1]
    first = re.search(r'<div class="preheader" style="([^"]*)">([^<]*)', body)
    assert first is not None
    assert body.index('class="preheader"') < body.index('class="brand"')
    assert "display: none" in first.group(1)
    summary = first.group(2)
    # After the subject's question: the failure, then the newest ready video, cut after a word.
    assert summary.startswith(
        "Also: We couldn't make your video on 'How volcanoes erupt' · Your video on 'Why is "
        "the sky blue?' is ready · 4 more\u034f"  # then the padding
    )


@pytest.mark.parametrize(
    ("first", "last", "total", "subject"),
    [
        (0, 5, 5, "A question about 'How do plants make food from light?', and 4 more"),
        (0, 1, 1, "Your video on 'Why is the sky blue?' is ready"),
        (0, 2, 2, "We couldn't make your video on 'How volcanoes erupt', and 1 more"),
        (3, 5, 2, f"Your video on '{sample.LONG_TITLE[:59]}…' is ready, and 1 more"),
        (2, 3, 1, "A question about 'How do plants make food from light?'"),
    ],
)
def test_the_subject_leads_with_what_needs_the_student(
    first: int, last: int, total: int, subject: str
) -> None:
    # A question waiting for an answer, then a failed video, then a ready one, newest first.
    config = sample.settings()
    newest = sample.items(config)[first:last]
    built = message.build(
        config,
        to="s@example.com",
        items=newest,
        total=total,
        unsubscribe_url=sample.UNSUBSCRIBE,
        message_uuid=uuid.uuid4(),
        date=sample.NOW,
    )
    assert built["Subject"] == subject


def _one(title: str) -> EmailMessage:
    config = sample.settings()
    row = {**sample.rows()[0], "question": None}
    row["payload"] = {**row["payload"], "title": title}
    return message.build(
        config,
        to="s@example.com",
        items=[message.item_from_row(row, sample.OPEN.format(n=1), config)],
        total=1,
        unsubscribe_url=sample.UNSUBSCRIBE,
        message_uuid=uuid.uuid4(),
        date=sample.NOW,
    )


def test_student_text_in_the_subject_is_one_short_line_and_encoded() -> None:
    folded = _one("Why\r\nBcc: victim@example.com\x00\tblue?")
    assert folded["Subject"] == "Your video on 'Why Bcc: victim@example.com blue?' is ready"
    wire = folded.as_bytes(policy=email.policy.SMTP)
    head = wire.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head
    long = _one("x" * 300)["Subject"]
    assert long == f"Your video on '{'x' * 59}…' is ready"
    # Non-ASCII: encoded on the wire (RFC 2047), the same text once decoded.
    rtl = _one(sample.RTL_TITLE)
    wire = rtl.as_bytes(policy=email.policy.SMTP)
    assert wire.split(b"\r\n\r\n", 1)[0].isascii()
    assert b"=?utf-8?" in wire
    back = email.message_from_bytes(wire, policy=email.policy.default)
    assert back["Subject"] == f"Your video on '{sample.RTL_TITLE}' is ready"


@pytest.mark.parametrize(
    "title",
    [
        "=?utf-8?q?x=0D=0ABcc:_boss@corp.example=0D=0AX-Injected:_1?=",
        "=?utf-8?q?=0D=0A=0D=0AAccount_locked:_call_555-0100?=",
        "=?utf-8?b?eA0KQmNjOiBib3NzQGNvcnAuZXhhbXBsZQ==?=",
    ],
)
def test_an_encoded_word_in_a_title_stays_text_on_the_wire(title: str) -> None:
    # The email library decodes RFC 2047 words in a header it is given: on Pythons before
    # 3.11.10 an encoded CR LF became a real line break (a student's own headers, or body,
    # in a DKIM-signed mail). Sent as the transport sends it, then read back:
    built = _one(title)
    wire, *_ = transport._wire(built, "bounces@example.com")
    _head, body = wire.split(b"\r\n\r\n", 1)
    back = email.message_from_bytes(wire, policy=email.policy.default)
    assert len(back.get_all("Subject") or []) == 1
    assert back["Bcc"] is None
    assert back["X-Injected"] is None
    assert b"Account locked" not in body.split(b"\r\n\r\n", 1)[0]
    assert "=?" not in str(back["Subject"])  # shown as the student wrote it, never decoded
    assert str(back["Subject"]).replace("\u2060", "").startswith("Your video on '=?utf-8?")
    assert back.get_body(("plain",)) is not None


def test_student_text_is_escaped_in_both_parts() -> None:
    hostile = '<script>alert("x")</script> & "quoted" \'single\'\nFake: line'
    built = _one(hostile)
    text, html = parts(built)
    assert "<script" not in html
    assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; "quoted" \'single\' Fake: line' in html
    assert "\nFake: line" not in text
    assert hostile.replace("\n", " ") in text
    assert "\r" not in built["Subject"]
    assert "\n" not in built["Subject"]


def test_the_students_language_marks_their_text_only() -> None:
    _, html = parts(sample.digest(lang="ar"))
    assert '<html lang="en">' in html
    titles = parsed(html).with_class("title-link")
    assert {(a.get("lang"), a.get("dir")) for a in titles} == {("ar", "auto")}
    assert re.search(r'<p class="kicker[^"]*"(?![^>]*lang=)', html)  # chrome: the page's en
    _, unknown = parts(sample.digest(lang='en" onload="x'))
    assert "onload" not in unknown
    assert {a.get("lang") for a in parsed(unknown).with_class("title")} == {None}


def test_the_confirmation_email_names_the_product_with_a_big_button() -> None:
    url = "https://notify.example/api/v1/digest/confirm?token=c&x=1"
    built = message.confirmation(
        sample.settings(),
        to="s@example.com",
        confirm_url=url,
        message_uuid=uuid.uuid4(),
        date=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert "Vividly" in built["Subject"]
    text, html = parts(built)
    assert "Vividly" in text
    assert url in text
    document = parsed(html)
    [button] = document.with_class("button")
    assert button["href"] == url
    assert "button-big" in button["class"]
    assert "background-color: #4f46e5" in button["style"]
    assert re.search(r'class="button button-big"[^>]*>Confirm this address</a>', html)
    assert '<html lang="en">' in html
    assert "@media (prefers-color-scheme: dark)" in html
    [brand] = document.with_class("brand")
    assert brand["style"]
    assert html.count("Vividly") >= 2


def test_a_mail_without_parsing_trouble() -> None:
    """The parts survive the wire: one MIME-Version, UTF-8 HTML."""
    built = sample.digest()
    wire = built.as_bytes(policy=email.policy.SMTP)
    assert wire.count(b"MIME-Version") == 1
    back = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(back, EmailMessage)
    _, html = parts(back)
    assert sample.RTL_TITLE in html


def test_times_are_the_date_and_time_in_the_students_time_zone() -> None:
    # Read hours later, "2 hours ago" computed at sending would be wrong: a date and time is not.
    text, html = parts(sample.digest(time_zone="Asia/Kolkata"))
    for part in (text, html):
        assert not re.search(r"\bago\b|just now|yesterday", part)
        assert "Mon 7 Dec, 15:30" in part  # 10:00 UTC in India (+05:30), no "UTC" label
        assert "Sat 5 Dec, 17:30" in part  # the two-day-old one, Sat 5 Dec 12:00 UTC
        assert "UTC" not in part
    # A date line crossed: 11:00 UTC on Sunday is already Monday in Auckland (+13:00).
    text, html = parts(sample.digest(time_zone="Pacific/Auckland"))
    assert "Mon 7 Dec, 00:00" in text
    assert "Mon 7 Dec, 00:00" in html


def test_an_unknown_stored_time_zone_is_utc_labelled_so() -> None:
    text, html = parts(sample.digest(time_zone="Mars/Olympus_Mons"))
    assert "Mon 7 Dec, 10:00 UTC" in text
    assert "Mon 7 Dec, 10:00 UTC" in html


def test_the_preheader_is_cut_after_a_whole_word() -> None:
    said = message.cut_words("Also: " + "crystalline " * 30, message.MAX_PREHEADER)
    assert len(said) <= message.MAX_PREHEADER
    assert said.endswith(" crystalline…")
    long = sample.items(sample.settings())[3]  # its headline's title is cut at 60 already
    items = [sample.items(sample.settings())[2], long, long, long]
    summary = message.preheader(items, 4)
    assert len(summary) <= message.MAX_PREHEADER
    assert summary.endswith("…")
    words = summary.removesuffix("…").split()
    assert set(words) <= {"Also:", "·", *long.headline.split()}  # whole words only


def test_each_rows_thumbnail_and_title_open_it_like_its_button() -> None:
    _, html = parts(sample.digest())
    rows = re.split(r'<table [^>]*class="row[ "]', html)[1:]
    assert len(rows) == 5
    for n, row in enumerate(rows, 1):
        tags = {
            name: re.search(rf'<a class="{name}"[^>]*>', row)
            for name in ("thumb-link", "title-link", "button")
        }
        hrefs = set()
        for name, tag in tags.items():
            assert tag is not None, (name, row)
            href = re.search(r' href="([^"]+)"', tag.group(0))
            assert href is not None
            hrefs.add(href.group(1))
        assert hrefs == {sample.OPEN.format(n=n)}
        # One link for a screen reader: the thumbnail's is hidden and out of the tab order.
        thumb = tags["thumb-link"]
        assert thumb is not None
        assert 'aria-hidden="true"' in thumb.group(0)
        assert 'tabindex="-1"' in thumb.group(0)


def test_the_confirmation_preheader_says_the_two_clicks_it_takes() -> None:
    built = message.confirmation(
        sample.settings(),
        to="s@example.com",
        confirm_url="https://notify.example/api/v1/digest/confirm?token=c",
        message_uuid=uuid.uuid4(),
        date=sample.NOW,
    )
    _, html = parts(built)
    found = re.search(r'<div class="preheader"[^>]*>([^<\u034f]*)', html)
    assert found is not None
    said = found.group(1)
    assert "One click" not in said
    assert said.startswith("Press the button, then Confirm on the page it opens")
