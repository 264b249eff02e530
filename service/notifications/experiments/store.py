"""Copy experiments: start, list with per-variant numbers, stop, and make a variant the default.

Guarantees:
- At most one running experiment per type (`AlreadyRunning`, also when two start at once); an
  unknown type is `UnknownType`, an unknown experiment `UnknownExperiment`; none changes a row.
- Making a variant the winner stops the experiment and makes that variant its type's default
  copy in one transaction; notifications made before keep the copy they were made with.
- A variant's numbers are those of the notifications made with it (`notifications.copy_variant`),
  counted as the delivery analytics count (delivered of created, seen of created, opened of
  delivered), each rate with its 95 % Wilson interval; the click-through of the two is compared
  (`proportions.difference`). A variant of fewer than `minimum` notifications shows no numbers,
  and then neither does the other (it would be the experiment's total minus the shown one), nor
  the comparison (`analytics.suppress`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from ..analytics import AnalyticsGate, suppress
from . import sql
from .proportions import difference, wilson

VARIANTS = ("a", "b")
LIST_LIMIT = 100
NUMBERS = ("created", "delivered", "seen", "opened", "delivery_rate", "seen_rate", "click_through")


class UnknownType(Exception):
    """No such notification type."""


class UnknownExperiment(Exception):
    """No such experiment."""


class AlreadyRunning(Exception):
    """An experiment of the type is running already."""

    def __init__(self, type_name: str, experiment_id: int) -> None:
        super().__init__(f"experiment {experiment_id} of {type_name!r} is still running")
        self.experiment_id = experiment_id


@dataclass(frozen=True, slots=True)
class Copy:
    """A heading and a body (templates: `templates.py`)."""

    heading: str
    body: str


async def create(pool: asyncpg.Pool, type_name: str, a: Copy, b: Copy) -> asyncpg.Record:
    """Start an experiment of `type_name` with variants `a` and `b`; its row."""
    async with pool.acquire() as connection, connection.transaction():
        if not await connection.fetchval(sql.TYPE_EXISTS, type_name):
            raise UnknownType(type_name)
        try:
            async with connection.transaction():  # a savepoint: the look-up below may follow
                row: asyncpg.Record = await connection.fetchrow(
                    sql.CREATE, type_name, a.heading, a.body, b.heading, b.body
                )
        except asyncpg.UniqueViolationError:
            running = await connection.fetchval(sql.RUNNING_OF_TYPE, type_name)
            raise AlreadyRunning(type_name, running) from None
        return row


async def experiments(pool: asyncpg.Pool, experiment_id: int | None = None) -> list[Any]:
    """The experiments, newest first (or only `experiment_id`: UnknownExperiment if none)."""
    rows: list[Any] = await pool.fetch(sql.EXPERIMENTS, experiment_id, LIST_LIMIT)
    if experiment_id is not None and not rows:
        raise UnknownExperiment(experiment_id)
    return rows


async def counts(gate: AnalyticsGate, pool: asyncpg.Pool, ids: Sequence[int]) -> list[Any]:
    """Per experiment and variant, what its notifications did (one gated analytics query)."""
    return await gate.fetch(pool, sql.VARIANT_COUNTS, list(ids)) if ids else []


async def stop(pool: asyncpg.Pool, experiment_id: int) -> None:
    """Stop the experiment (a stopped one stays as it is)."""
    if await pool.execute(sql.STOP, experiment_id) == "UPDATE 0":
        raise UnknownExperiment(experiment_id)


async def make_winner(pool: asyncpg.Pool, experiment_id: int, variant: str) -> None:
    """Stop the experiment with `variant` as its winner, and make that its type's default copy."""
    async with pool.acquire() as connection, connection.transaction():
        if await connection.fetchval(sql.MAKE_WINNER, experiment_id, variant) is None:
            raise UnknownExperiment(experiment_id)


def _rate(part: int, whole: int) -> dict[str, float] | None:
    interval = wilson(part, whole)
    if interval is None:
        return None
    return {"value": round(part / whole, 4), "low": round(interval[0], 4),
            "high": round(interval[1], 4)}  # fmt: skip


def report(
    row: Mapping[str, Any], variant_counts: Sequence[Mapping[str, Any]], minimum: int
) -> dict[str, Any]:
    """An experiment as the API shows it: its copy, and each variant's numbers (see above)."""
    by_variant = {count["variant"]: count for count in variant_counts}
    variants: list[dict[str, Any]] = []
    for name in VARIANTS:
        c = by_variant.get(name, {})
        created, delivered = c.get("created", 0), c.get("delivered", 0)
        variants.append({
            "variant": name,
            "heading": row[f"{name}_heading"],
            "body": row[f"{name}_body"],
            "created": created,
            "delivered": delivered,
            "seen": c.get("seen", 0),
            "opened": c.get("opened", 0),
            "delivery_rate": _rate(delivered, created),
            "seen_rate": _rate(c.get("seen", 0), created),
            "click_through": _rate(c.get("opened_delivered", 0), delivered),
            "_opened_delivered": c.get("opened_delivered", 0),
        })  # fmt: skip
    suppress(variants, minimum, numbers=NUMBERS)
    comparison = None
    a, b = variants
    if not a["suppressed"]:
        compared = difference(
            a["_opened_delivered"], a["delivered"], b["_opened_delivered"], b["delivered"], VARIANTS
        )
        if compared is not None:
            comparison = {
                "metric": "click_through",
                "difference": round(compared.difference, 4),
                "low": round(compared.low, 4),
                "high": round(compared.high, 4),
                "p_value": round(compared.p_value, 4),
                "leader": compared.leader,
            }
    for variant in variants:
        del variant["_opened_delivered"]
    return {
        "id": row["id"],
        "type": row["type"],
        "label": row["label"],
        "started_at": row["started_at"],
        "stopped_at": row["stopped_at"],
        "running": row["stopped_at"] is None,
        "winner": row["winner"],
        "variants": variants,
        "comparison": comparison,
    }
