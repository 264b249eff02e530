"""The wake-up wheel: never early, at most one resolution late, each wake-up once."""

from __future__ import annotations

import asyncio
import time

import pytest

from service.live.wheel import Wheel


class Clock:
    """A sleeper that records when it was woken."""

    def __init__(self) -> None:
        self.woken: list[float] = []

    def wake(self) -> None:
        self.woken.append(time.monotonic())


def test_a_wake_up_is_never_early_and_comes_once() -> None:
    wheel = Wheel(0.25, now=0)
    sleeper = Clock()
    wheel.wake_at(sleeper, 10.1)
    assert wheel.turn(10.0) == 0
    assert wheel.turn(10.2) == 0  # 10.1 rounds up to the slot at 10.25
    assert wheel.turn(10.25) == 1
    assert wheel.turn(11.0) == 0
    assert len(sleeper.woken) == 1
    assert wheel.pending() == 0


def test_one_turn_wakes_every_slot_that_fell_due_in_time_order() -> None:
    wheel = Wheel(0.5, now=0)
    order: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def wake(self) -> None:
            order.append(self.name)

    wheel.wake_at(Named("late"), 3.0)
    wheel.wake_at(Named("early"), 1.0)
    wheel.wake_at(Named("later still"), 9.0)
    assert wheel.turn(5.0) == 2
    assert order == ["early", "late"]
    assert wheel.pending() == 1


def test_a_wake_up_asked_for_the_past_comes_at_the_next_turn() -> None:
    wheel = Wheel(0.01, now=100.0)
    sleeper = Clock()
    wheel.turn(100.5)
    wheel.wake_at(sleeper, 100.2)  # already past: the next slot
    assert wheel.turn(100.5) == 0
    assert wheel.turn(100.51) == 1


def test_a_turn_after_a_long_pause_wakes_everything_due() -> None:
    wheel = Wheel(0.01, now=0)
    sleepers = [Clock() for _ in range(3)]
    for when, sleeper in zip([1.0, 500.0, 90_000.0], sleepers, strict=True):
        wheel.wake_at(sleeper, when)
    assert wheel.turn(1_000.0) == 2  # 100,000 slots elapsed: only the held ones are visited
    assert wheel.pending() == 1


def test_resolution_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Wheel(0)


async def test_running_wheel_wakes_each_sleeper_once_never_early() -> None:
    wheel = Wheel(0.05)
    task = asyncio.create_task(wheel.run())
    try:
        sleepers = [Clock() for _ in range(50)]
        start = time.monotonic()
        asked = [start + 0.01 * i for i in range(50)]
        for sleeper, when in zip(sleepers, asked, strict=True):
            wheel.wake_at(sleeper, when)
        await asyncio.sleep(0.8)
    finally:
        task.cancel()
    for sleeper, when in zip(sleepers, asked, strict=True):
        assert len(sleeper.woken) == 1
        assert sleeper.woken[0] >= when
