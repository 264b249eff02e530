"""The simulated pipeline and its media, without a database."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest

from service.requests import media
from service.requests.pipeline import (
    Clarification,
    Job,
    SimulatedPipeline,
    StageFailed,
    Video,
    title_of,
)

WEBM_MAGIC = bytes.fromhex("1a45dfa3")  # EBML header


def job(answer: str | None = None, question: str = "how do plants make food?") -> Job:
    return Job(uuid.uuid4(), uuid.uuid4(), question, None, answer, attempt=1)


def pipeline(tmp_path: Path, *, failure: float = 0, clarification: float = 0) -> SimulatedPipeline:
    return SimulatedPipeline(
        tmp_path,
        stage_seconds=0,
        failure_rate=failure,
        clarification_rate=clarification,
        rng=random.Random(7),
    )


def test_title_of() -> None:
    assert title_of("how do plants make food?") == "How do plants make food"
    assert title_of("first line\nsecond line") == "First line"
    assert len(title_of("x" * 500)) == 80


async def test_completes_with_a_playable_webm_and_a_thumbnail(tmp_path: Path) -> None:
    outcome = await pipeline(tmp_path).run(job(question='Why "quotes" & <tags>: 50% of it?'))
    assert isinstance(outcome, Video)
    video = tmp_path / "videos" / outcome.video_url.rsplit("/", 1)[1]
    assert video.read_bytes()[:4] == WEBM_MAGIC
    assert video.stat().st_size > 1000
    thumbnail = (tmp_path / "thumbnails" / outcome.thumbnail_url.rsplit("/", 1)[1]).read_text()
    assert "&lt;tags&gt;" in thumbnail
    assert outcome.duration_seconds == media.CLIP_SECONDS


async def test_failure_names_the_stage(tmp_path: Path) -> None:
    with pytest.raises(StageFailed) as raised:
        await pipeline(tmp_path, failure=1).run(job())
    assert raised.value.stage in {"nlu", "rag", "script", "tts", "video"}
    assert raised.value.title == "How do plants make food"


async def test_asks_back_unless_already_answered(tmp_path: Path) -> None:
    asked = await pipeline(tmp_path, clarification=1).run(job())
    assert isinstance(asked, Clarification)
    assert "How do plants make food" in asked.question
    answered = await pipeline(tmp_path, clarification=1).run(job(answer="grade 7"))
    assert isinstance(answered, Video)


def test_title_of_an_empty_question() -> None:
    assert title_of("") == "Untitled question"
    assert title_of("  \n ") == "Untitled question"
