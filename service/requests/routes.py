"""A student's content requests: ask, list, look at one, answer a clarification, try again.

The API only writes the request; a worker (`vividly-notify worker`) produces the video, and
the notification is a side effect of the worker's UPDATE (the trigger), never of this code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..http.deps import CurrentUser, Pool, app_settings
from ..http.schemas import ErrorOut
from . import sql, text
from .open_requests import open_request_slot
from .settings import WorkerSettings

WorkerAppSettings = Annotated[WorkerSettings, Depends(app_settings)]

router = APIRouter(
    prefix="/api/v1/content-requests",
    tags=["content requests"],
    responses={401: {"model": ErrorOut, "description": "Missing or invalid token."}},
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such request of this user."}
}
TOO_MANY_OPEN = (
    "The student already has MAX_OPEN_REQUESTS_PER_STUDENT requests pending or processing; "
    "`Retry-After` says when to try again."
)
RequestId = Annotated[uuid.UUID, Path(description="A content request id.")]
TEXT_MAX = 2000  # characters in a question or an answer


class ContentRequestOut(BaseModel):
    id: uuid.UUID
    student_id: uuid.UUID
    status: str = Field(examples=["pending"])
    question: str | None
    title: str | None
    video_url: str | None
    thumbnail_url: str | None
    duration_seconds: int | None
    error_message: str | None
    clarification_question: str | None
    clarification_answer: str | None
    stage: str | None = Field(
        default=None,
        examples=["script"],
        description="While `processing`: the pipeline stage it is in (`nlu`, `rag`, `script`, "
        "`tts`, `video`), else null. Changes arrive live as the stream's `progress` event.",
    )
    created_at: datetime
    updated_at: datetime


class ContentRequestPage(BaseModel):
    items: list[ContentRequestOut]
    next_cursor: uuid.UUID | None = Field(description="Pass as `cursor` for the next page.")


def _student_text(value: str) -> str:
    reason = text.problem(value)
    if reason is not None:
        raise ValueError(reason)
    return value.strip()


# The rule is `service/requests/text.py`'s; its pattern goes in the OpenAPI document.
StudentText = Annotated[
    str,
    Field(min_length=1, max_length=TEXT_MAX, json_schema_extra={"pattern": text.PATTERN}),
    AfterValidator(_student_text),
]


class QuestionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"question": "How do plants make food?"}]}
    )

    question: StudentText


class AnswerIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"answer": "Grade 7 biology"}]}
    )

    answer: StudentText


@router.post(
    "",
    status_code=201,
    response_model=ContentRequestOut,
    responses={429: {"model": ErrorOut, "description": TOO_MANY_OPEN}},
)
async def create(
    body: QuestionIn, user: CurrentUser, pool: Pool, settings: WorkerAppSettings
) -> Any:
    """Ask a question; a worker turns it into a video and the student is notified."""
    limit = settings.max_open_requests_per_student
    async with open_request_slot(pool, user.id, limit) as connection:
        return dict(await connection.fetchrow(sql.CREATE_REQUEST, user.id, body.question))


@router.get("", response_model=ContentRequestPage)
async def list_mine(
    user: CurrentUser,
    pool: Pool,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        uuid.UUID | None, Query(description="`next_cursor` of the previous page.")
    ] = None,
) -> Any:
    """The user's requests, newest first."""
    if cursor is None:
        rows = await pool.fetch(sql.REQUESTS_FIRST_PAGE, user.id, limit + 1)
    else:
        rows = await pool.fetch(sql.REQUESTS_PAGE_AFTER, user.id, limit + 1, cursor)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [dict(row) for row in rows],
        "next_cursor": rows[-1]["id"] if more else None,
    }


@router.get("/{request_id}", response_model=ContentRequestOut, responses=NOT_FOUND)
async def get_one(request_id: RequestId, user: CurrentUser, pool: Pool) -> Any:
    """One of the user's requests."""
    row = await pool.fetchrow(sql.REQUEST_OF_STUDENT, request_id, user.id)
    if row is None:
        raise HTTPException(404, detail="content request not found")
    return dict(row)


@router.post(
    "/{request_id}/clarification",
    response_model=ContentRequestOut,
    responses={
        **NOT_FOUND,
        409: {"model": ErrorOut, "description": "The request is not waiting for an answer."},
        429: {"model": ErrorOut, "description": TOO_MANY_OPEN},
    },
)
async def answer_clarification(
    request_id: RequestId,
    body: AnswerIn,
    user: CurrentUser,
    pool: Pool,
    settings: WorkerAppSettings,
) -> Any:
    """Answer the clarification question: the request goes back to pending (it counts in the
    cap on open requests again, like a new one)."""
    current = await pool.fetchrow(sql.REQUEST_OF_STUDENT, request_id, user.id)
    if current is not None and current["status"] == "clarification_needed":
        limit = settings.max_open_requests_per_student
        async with open_request_slot(pool, user.id, limit) as connection:
            row = await connection.fetchrow(
                sql.ANSWER_CLARIFICATION, request_id, user.id, body.answer
            )
        if row is not None:
            return dict(row)
        current = await pool.fetchrow(sql.REQUEST_OF_STUDENT, request_id, user.id)
    if current is None:
        raise HTTPException(404, detail="content request not found")
    raise HTTPException(
        409,
        detail=f"the request is {current['status']}; only a request in clarification_needed "
        "takes an answer",
    )


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a request was not reopened: 404 (not this student's) or 409 (its state)."""

    status_code: int
    detail: str


async def admit_retry(
    pool: asyncpg.Pool, request_id: uuid.UUID, student_id: uuid.UUID, limit: int
) -> asyncpg.Record | Refused:
    """Reopen a failed request of this student, or say why not (404, 409; 429 from the cap on
    open requests, which a reopened request counts in, like a new one)."""
    current = await pool.fetchrow(sql.REQUEST_OF_STUDENT, request_id, student_id)
    if current is None:
        return Refused(404, "content request not found")
    if current["status"] == "failed":
        async with open_request_slot(pool, student_id, limit) as connection:
            row: asyncpg.Record | None = await connection.fetchrow(
                sql.REOPEN_FAILED, request_id, student_id
            )
        if row is not None:
            return row
        current = await pool.fetchrow(sql.REQUEST_OF_STUDENT, request_id, student_id)
        if current is None:  # deleted meanwhile (retention prunes finished requests)
            return Refused(404, "content request not found")
    return Refused(
        409, f"the request is {current['status']}; only a failed request can be tried again"
    )


@router.post(
    "/{request_id}/retry",
    response_model=ContentRequestOut,
    responses={
        **NOT_FOUND,
        409: {"model": ErrorOut, "description": "The request has not failed."},
        429: {"model": ErrorOut, "description": TOO_MANY_OPEN},
    },
)
async def retry(
    request_id: RequestId, user: CurrentUser, pool: Pool, settings: WorkerAppSettings
) -> Any:
    """Try a failed request again: it goes back to pending and a worker picks it up."""
    admitted = await admit_retry(pool, request_id, user.id, settings.max_open_requests_per_student)
    if isinstance(admitted, Refused):
        raise HTTPException(admitted.status_code, detail=admitted.detail)
    return dict(admitted)
