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
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from db import queries

from ..deps import CurrentUser, Pool
from ..schemas import ErrorOut

router = APIRouter(
    prefix="/api/v1/content-requests",
    tags=["content requests"],
    responses={401: {"model": ErrorOut, "description": "Missing or invalid token."}},
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such request of this user."}
}
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
    created_at: datetime
    updated_at: datetime


class ContentRequestPage(BaseModel):
    items: list[ContentRequestOut]
    next_cursor: uuid.UUID | None = Field(description="Pass as `cursor` for the next page.")


# At least one visible character, and no NUL (Postgres text cannot hold it). Stated as a pattern
# so the OpenAPI document says exactly what is accepted.
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f]"
STUDENT_TEXT_PATTERN = rf"^[^\x00]*{VISIBLE}[^\x00]*$"

StudentText = Annotated[
    str,
    Field(min_length=1, max_length=TEXT_MAX, pattern=STUDENT_TEXT_PATTERN),
    AfterValidator(str.strip),
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


@router.post("", status_code=201, response_model=ContentRequestOut)
async def create(body: QuestionIn, user: CurrentUser, pool: Pool) -> Any:
    """Ask a question; a worker turns it into a video and the student is notified."""
    return dict(await pool.fetchrow(queries.CREATE_REQUEST, user.id, body.question))


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
        rows = await pool.fetch(queries.REQUESTS_FIRST_PAGE, user.id, limit + 1)
    else:
        rows = await pool.fetch(queries.REQUESTS_PAGE_AFTER, user.id, limit + 1, cursor)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [dict(row) for row in rows],
        "next_cursor": rows[-1]["id"] if more else None,
    }


@router.get("/{request_id}", response_model=ContentRequestOut, responses=NOT_FOUND)
async def get_one(request_id: RequestId, user: CurrentUser, pool: Pool) -> Any:
    """One of the user's requests."""
    row = await pool.fetchrow(queries.REQUEST_OF_STUDENT, request_id, user.id)
    if row is None:
        raise HTTPException(404, detail="content request not found")
    return dict(row)


@router.post(
    "/{request_id}/clarification",
    response_model=ContentRequestOut,
    responses={
        **NOT_FOUND,
        409: {"model": ErrorOut, "description": "The request is not waiting for an answer."},
    },
)
async def answer_clarification(
    request_id: RequestId, body: AnswerIn, user: CurrentUser, pool: Pool
) -> Any:
    """Answer the clarification question: the request goes back to pending."""
    row = await pool.fetchrow(queries.ANSWER_CLARIFICATION, request_id, user.id, body.answer)
    if row is not None:
        return dict(row)
    current = await pool.fetchrow(queries.REQUEST_OF_STUDENT, request_id, user.id)
    if current is None:
        raise HTTPException(404, detail="content request not found")
    raise HTTPException(
        409,
        detail=f"the request is {current['status']}; only a request in clarification_needed "
        "takes an answer",
    )


# A failed request goes back to the queue as it was asked: the failure is cleared and its claims
# start over. Leaving `failed` for `pending` wakes a worker (the pending trigger) and starts a new
# notification round (the touch trigger), so its next final status notifies again.
REOPEN_FAILED = f"""
UPDATE content_requests
SET status = 'pending', error_message = NULL, attempts = 0, claimed_by = NULL,
    lease_expires_at = NULL
WHERE id = $1 AND student_id = $2 AND status = 'failed'
RETURNING {queries.REQUEST_COLUMNS}
"""


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a request was not reopened: 404 (not this student's) or 409 (its state)."""

    status_code: int
    detail: str


async def admit_retry(
    pool: asyncpg.Pool, request_id: uuid.UUID, student_id: uuid.UUID
) -> asyncpg.Record | Refused:
    """Reopen a failed request of this student, or say why not. The one admission of a retry:
    a limit on a student's open requests belongs in this transaction, before the UPDATE."""
    async with pool.acquire() as conn, conn.transaction():
        row: asyncpg.Record | None = await conn.fetchrow(REOPEN_FAILED, request_id, student_id)
        if row is not None:
            return row
        current = await conn.fetchrow(queries.REQUEST_OF_STUDENT, request_id, student_id)
    if current is None:
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
    },
)
async def retry(request_id: RequestId, user: CurrentUser, pool: Pool) -> Any:
    """Try a failed request again: it goes back to pending and a worker picks it up."""
    admitted = await admit_retry(pool, request_id, user.id)
    if isinstance(admitted, Refused):
        raise HTTPException(admitted.status_code, detail=admitted.detail)
    return dict(admitted)
