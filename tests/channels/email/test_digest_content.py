"""What the digest query (DIGEST_CONTENT) reads beside a notification: the student's own question
from their content request, and the action and thumbnail the email shows for it."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.pool import create_pool
from tests.support.digest import digest_settings, notify, plain, sender, subscribe
from tests.support.mailbox import Mailbox


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    opened = await create_pool(database_url, max_size=3)
    yield opened
    await opened.close()


async def request_of(conn: asyncpg.Connection, student: uuid.UUID, question: str) -> uuid.UUID:
    made: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, question) VALUES ($1, $2) RETURNING id",
        student,
        question,
    )
    return made


async def test_each_row_shows_the_students_question_and_its_action(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    student, other = uuid.uuid4(), uuid.uuid4()
    address = f"q-{student.hex[:8]}@example.com"
    await subscribe(conn, student, address)
    asked = await request_of(conn, student, "How do bees find\nflowers <again>?")
    theirs = await request_of(conn, other, "Someone else's secret question")
    await notify(
        conn,
        student,
        "video_failed",
        content_id=str(asked),
        title="Bees",
        error_message="The renderer stopped.",
    )
    # Another student's request is never read, and a content id that is no UUID names none.
    await notify(conn, student, "clarification_needed", content_id=str(theirs), question="Level?")
    await notify(conn, student, content_id="not-a-uuid", thumbnail_url="/media/thumbnails/t.png")
    await sender(pool, digest_settings(database_url, mailbox)).run_once()

    [message] = mailbox.to(address)
    text = plain(message)
    assert 'You asked: "How do bees find flowers <again>?"' in text
    assert "secret" not in text
    actions = re.findall(r"^  (Watch|Try again|Answer|Open): https://", text, re.MULTILINE)
    assert actions == ["Open", "Answer", "Try again"]  # newest first; no request page: Open
    assert message["Subject"] == "Your video is ready, and 2 more"  # its label: no request
    html = message.get_body(("html",))
    assert html is not None
    assert 'src="https://notify.example/media/thumbnails/t.png"' in html.get_content()


async def test_the_students_locale_marks_their_own_text(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"l-{student.hex[:8]}@example.com"
    await subscribe(conn, student, address)
    await conn.execute(
        "UPDATE email_digest_preferences SET locale = 'pt-BR' WHERE user_id = $1", student
    )
    await notify(conn, student, title="Por que o céu é azul?")
    await sender(pool, digest_settings(database_url, mailbox)).run_once()
    [message] = mailbox.to(address)
    html = message.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert '<html lang="en">' in content  # the chrome is English
    assert re.search(r'<p class="title"[^>]* lang="pt-BR"[^>]*>Por que o céu é azul\?', content)
