"""`/api/v1/admin/experiments`: A/B tests of a notification type's copy, for admins.

Guarantees: only tokens holding `ADMIN_ROLE` (403; no token 401, both from the admin router).
Bad input changes nothing and is a 422 naming the field: empty, too long or multi-line copy, a
placeholder other than {title}, {error_message}, {question}, a clarification's copy without
{question}, a lone surrogate, an unknown type, a type that has an
experiment running; an unknown experiment is a 404. Numbers are aggregates only (per variant,
small groups suppressed), counted by the gated analytics query (429/503 as the analytics).
Making a variant the winner stops its experiment and makes it the type's default copy at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.exceptions import RequestValidationError

from ...notifications.analytics import Busy, TooSlow
from ...notifications.experiments import store, templates
from ..admin_schemas import ExperimentIn, ExperimentOut, ExperimentsOut, WinnerIn
from ..deps import AdminUser, Analytics, AppSettings, Pool
from ..schemas import CLIENT_ID_MAX, ErrorOut

router = APIRouter(
    prefix="/experiments",
    responses={404: {"model": ErrorOut, "description": "No such experiment."}},
)


def _type_error(message: str, value: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", "type"), "msg": message, "input": value}]
    )


def _not_found(experiment_id: int) -> HTTPException:
    return HTTPException(404, detail=f"no experiment {experiment_id}")


async def _reports(
    pool: Pool, gate: Analytics, settings: AppSettings, experiment_id: int | None = None
) -> list[dict[str, Any]]:
    if experiment_id is not None and not 0 < experiment_id <= CLIENT_ID_MAX:
        raise _not_found(experiment_id)
    try:
        rows = await store.experiments(pool, experiment_id)
    except store.UnknownExperiment:
        raise _not_found(experiment_id or 0) from None
    try:
        counts = await store.counts(gate, pool, [row["id"] for row in rows])
    except Busy:
        raise HTTPException(
            429, detail="another analytics query is running; retry shortly",
            headers={"Retry-After": "5"},
        ) from None  # fmt: skip
    except TooSlow:
        raise HTTPException(503, detail="counting the variants took too long") from None
    minimum = settings.analytics_min_group
    return [
        store.report(row, [c for c in counts if c["experiment_id"] == row["id"]], minimum)
        for row in rows
    ]


@router.post("", status_code=201, response_model=ExperimentOut)
async def create(
    body: ExperimentIn, _admin: AdminUser, pool: Pool, gate: Analytics, settings: AppSettings
) -> Any:
    """Start an A/B test of a type's copy: from now on each student's notifications of the type
    are made with variant a or b (the same one every time, about half each)."""
    problems = [
        {"type": "value_error", "loc": ("body", name, "body"), "msg": why, "input": copy.body}
        for name, copy in (("a", body.a), ("b", body.b))
        if (why := templates.missing(body.type, copy.body)) is not None
    ]
    if problems:
        raise RequestValidationError(problems)
    a = store.Copy(body.a.heading, body.a.body)
    b = store.Copy(body.b.heading, body.b.body)
    try:
        row = await store.create(pool, body.type, a, b)
    except store.UnknownType:
        raise _type_error(f"{body.type!r} is not a notification type", body.type) from None
    except store.AlreadyRunning as error:
        raise _type_error(
            f"experiment {error.experiment_id} of {body.type!r} is still running: stop it first",
            body.type,
        ) from None
    return store.report(row, [], settings.analytics_min_group)


@router.get("", response_model=ExperimentsOut)
async def list_experiments(
    _admin: AdminUser, pool: Pool, gate: Analytics, settings: AppSettings
) -> Any:
    """The experiments, newest first, each variant's delivered, seen and opened with rates and
    their 95 % intervals, and whether one is ahead on click-through."""
    return {"experiments": await _reports(pool, gate, settings)}


@router.get("/{experiment_id}", response_model=ExperimentOut)
async def one(
    experiment_id: int, _admin: AdminUser, pool: Pool, gate: Analytics, settings: AppSettings
) -> Any:
    """One experiment, as in the list."""
    return (await _reports(pool, gate, settings, experiment_id))[0]


@router.post("/{experiment_id}/stop", response_model=ExperimentOut)
async def stop(
    experiment_id: int, _admin: AdminUser, pool: Pool, gate: Analytics, settings: AppSettings
) -> Any:
    """Stop it: new notifications get the type's default copy again. Stopping twice is fine."""
    if not 0 < experiment_id <= CLIENT_ID_MAX:
        raise _not_found(experiment_id)
    try:
        await store.stop(pool, experiment_id)
    except store.UnknownExperiment:
        raise _not_found(experiment_id) from None
    return (await _reports(pool, gate, settings, experiment_id))[0]


@router.post("/{experiment_id}/winner", response_model=ExperimentOut)
async def winner(
    experiment_id: int,
    body: WinnerIn,
    _admin: AdminUser,
    pool: Pool,
    gate: Analytics,
    settings: AppSettings,
) -> Any:
    """Make a variant its type's default copy (every new notification of the type is made with
    it), stopping the experiment."""
    if not 0 < experiment_id <= CLIENT_ID_MAX:
        raise _not_found(experiment_id)
    try:
        await store.make_winner(pool, experiment_id, body.variant)
    except store.UnknownExperiment:
        raise _not_found(experiment_id) from None
    return (await _reports(pool, gate, settings, experiment_id))[0]
