"""Waiting on a condition in tests: poll until it holds, fail with a clear message at a deadline."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


@overload
async def until(
    check: Callable[[], Awaitable[T]], what: str, *, timeout: float = ..., interval: float = ...
) -> T: ...


@overload
async def until(
    check: Callable[[], T], what: str, *, timeout: float = ..., interval: float = ...
) -> T: ...


async def until(
    check: Callable[[], Any],
    what: str,
    *,
    timeout: float = 5.0,
    interval: float = 0.02,
) -> Any:
    """Call (and await, if it is a coroutine) `check()` until it gives something truthy; return it.

    For conditions nothing signals (a counter of another component, a row in another process's
    database); when something can be awaited (an Event, a queue), await it with
    `asyncio.wait_for` instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout} s waiting until {what}")
        await asyncio.sleep(interval)
