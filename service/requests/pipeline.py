"""The pipeline interface, and the simulated pipeline that stands in for the real one.

A real pipeline (NLU -> RAG -> script -> TTS -> video) implements `Pipeline.run`: return a
`Video` or a `Clarification`, or raise `StageFailed` (any other exception also ends the request
in `failed`). The student is told only that the video could not be made; the exception goes to
the worker's log. It never touches notifications. It may `await progress(stage)` as it enters
each stage: the worker stores the stage on the request, which the student sees live; reporting
never raises and never fails the job.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import media

STAGES = ("nlu", "rag", "script", "tts", "video")
FAILURES = {
    "nlu": "could not understand the question",
    "rag": "no sources found for this topic",
    "script": "script generation produced an empty script",
    "tts": "text-to-speech service timed out",
    "video": "video rendering failed",
}


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed content request."""

    id: uuid.UUID
    student_id: uuid.UUID
    question: str
    clarification_question: str | None
    clarification_answer: str | None
    attempt: int


@dataclass(frozen=True, slots=True)
class Video:
    title: str
    video_url: str
    thumbnail_url: str
    duration_seconds: int


@dataclass(frozen=True, slots=True)
class Clarification:
    question: str


Outcome = Video | Clarification


class StageFailed(Exception):
    """A stage gave up; the message is logged (the student sees a generic text)."""

    def __init__(self, stage: str, message: str, *, title: str | None = None) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage
        self.title = title


Progress = Callable[[str], Awaitable[None]]


async def no_progress(_stage: str) -> None:
    """Where progress goes when nobody listens."""


class Pipeline(Protocol):
    async def run(self, job: Job, progress: Progress = no_progress) -> Outcome:
        """Turn the question into a video, or ask for a clarification, or raise; report each
        stage entered to `progress`."""
        ...


def title_of(question: str) -> str:
    """A short title from the question: its first line, up to 80 characters."""
    lines = question.strip().splitlines()
    first = lines[0].strip().rstrip("?.!") if lines else ""
    if not first:
        return "Untitled question"
    title = first if len(first) <= 80 else first[:79].rstrip() + "…"
    return title[:1].upper() + title[1:]


class SimulatedPipeline:
    """Sleeps through the seed's stages, fails or asks back at configured rates, renders media."""

    def __init__(
        self,
        media_dir: Path,
        *,
        stage_seconds: float,
        failure_rate: float,
        clarification_rate: float,
        rng: random.Random | None = None,
    ) -> None:
        self._media_dir = media_dir
        self._stage_seconds = stage_seconds
        self._failure_rate = failure_rate
        self._clarification_rate = clarification_rate
        self._rng = rng or random.Random()

    async def run(self, job: Job, progress: Progress = no_progress) -> Outcome:
        title = title_of(job.question)
        failing_stage = (
            self._rng.choice(STAGES) if self._rng.random() < self._failure_rate else None
        )
        asks_back = (
            job.clarification_answer is None and self._rng.random() < self._clarification_rate
        )
        for stage in STAGES:
            await progress(stage)
            await asyncio.sleep(self._stage_seconds)
            if stage == "nlu" and asks_back:
                return Clarification(f"What level should the video on '{title}' be pitched at?")
            if stage == failing_stage:
                raise StageFailed(stage, FAILURES[stage], title=title)
        try:
            rendered = await media.render(self._media_dir, job.id, job.attempt, title)
        except media.RenderError as error:
            raise StageFailed("video", str(error), title=title) from error
        return Video(
            title=title,
            video_url=f"/media/videos/{rendered.video_path.name}",
            thumbnail_url=f"/media/thumbnails/{rendered.thumbnail_path.name}",
            duration_seconds=rendered.duration_seconds,
        )
