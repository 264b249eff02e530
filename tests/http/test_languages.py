"""Reading a student's language from Accept-Language, and the one tag shape the database holds."""

from __future__ import annotations

import asyncpg
import pytest

from service.http.languages import is_language_tag, preferred_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pt-BR,pt;q=0.9,en;q=0.8", "pt-BR"),
        ("en;q=0.5, de", "de"),
        ("fr;q=0.7, es;q=0.7", "fr"),  # equal weights: the first
        ("*, en;q=0.1", "en"),
        ("de;q=0, en;q=0.2", "en"),
        ("zh-Hant-TW", "zh-Hant-TW"),
        ("en;q=abc, es;q=2, it", "it"),
        ("1234, x", None),
        ("", None),
        (None, None),
        ("en-" + "a" * 40, None),
        ("en," * 400, None),  # too long to read
        ("de\\r\\nX-Evil: 1", None),
    ],
)
def test_the_best_well_formed_tag_is_taken(header: str | None, expected: str | None) -> None:
    assert preferred_language(header) == expected


@pytest.mark.db
async def test_the_database_holds_exactly_the_tags_the_service_accepts(
    conn: asyncpg.Connection,
) -> None:
    samples = [
        "en",
        "pt-BR",
        "zh-Hant-TW",
        "sr-Latn-RS",
        "e",
        "english-x",
        "en_US",
        "en-",
        "1a",
        "de-" + "x" * 9,
        "en-a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p",
        "ab-" + "c" * 33,
    ]
    for tag in samples:
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO email_digest_preferences (user_id, address, period, opted_in,"
                    " next_digest_at, locale) VALUES (gen_random_uuid(), 'a@example.com',"
                    " 'daily', true, now(), $1)",
                    tag,
                )
                raise _Rollback
        except _Rollback:
            accepted = True
        except asyncpg.CheckViolationError:
            accepted = False
        assert accepted == is_language_tag(tag), tag


class _Rollback(Exception):
    pass
