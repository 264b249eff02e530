"""The simulated pipeline and its media, without a database."""

from __future__ import annotations

import random
import struct
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
    asked = job(question='Why "quotes" & <tags>: 50% of it?')
    job_id = asked.id
    outcome = await pipeline(tmp_path).run(asked)
    assert isinstance(outcome, Video)
    video = tmp_path / "videos" / outcome.video_url.rsplit("/", 1)[1]
    assert video.read_bytes()[:4] == WEBM_MAGIC
    assert video.stat().st_size > 1000
    # A raster thumbnail (mail clients show no SVG): a 320x180 PNG, the video's first frame.
    assert outcome.thumbnail_url == f"/media/thumbnails/{job_id}.png"
    thumbnail = (tmp_path / "thumbnails" / f"{job_id}.png").read_bytes()
    assert thumbnail[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", thumbnail[16:24]) == (320, 180)  # IHDR: width, height
    assert not list((tmp_path / "thumbnails").glob("*.svg"))
    assert media.delete(tmp_path, job_id) == 2  # the video and its thumbnail
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
