"""The freeze policy: survivors frozen, fresh cycles collected, pauses measured and exported."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import httpx
import pytest

from service.runtime.pauses import (
    PAUSES,
    FreezePolicy,
    GcCollector,
    freeze_start_up,
    install_pause_histogram,
)
from service.settings import Settings
from tests.support.metrics import value
from tests.support.server import RunningServer, settings_for
from tests.support.waiting import until


class Node:
    """A tracked object that can take part in a cycle."""

    other: Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def in_generations(target: object) -> bool:
    """Whether the collector still walks `target` (frozen objects are in no generation)."""
    return any(candidate is target for candidate in gc.get_objects())


def cycle() -> weakref.ref[Node]:
    """A reference cycle nobody holds any more; a weak reference to watch it go."""
    node = Node()
    node.other = Node()
    node.other.other = node
    return weakref.ref(node)


@pytest.mark.usefixtures("unfrozen")
def test_tick_freezes_survivors_and_collects_new_cycles() -> None:
    survivors = [Node() for _ in range(1000)]
    garbage = cycle()
    assert garbage() is not None  # only the cyclic collector can free it

    FreezePolicy(interval=1).tick()

    assert garbage() is None, "a cycle that died before the tick was frozen instead of collected"
    assert gc.get_freeze_count() >= len(survivors)
    assert not in_generations(survivors[0]), "a survivor is still walked by every collection"


@pytest.mark.usefixtures("unfrozen")
def test_full_collection_frees_cycles_that_died_frozen() -> None:
    policy = FreezePolicy(interval=1)
    node = Node()
    node.other = Node()
    node.other.other = node
    garbage = weakref.ref(node)
    policy.tick()  # frozen while alive
    del node
    gc.collect()
    assert garbage() is not None, "frozen objects are not collected by ordinary collections"

    assert policy.full_collection() >= 2
    assert garbage() is None
    assert gc.get_freeze_count() > 0  # frozen again afterwards


def test_every_collection_is_timed() -> None:
    install_pause_histogram()
    install_pause_histogram()  # idempotent: one observation per collection
    before = collections_timed("0")
    gc.collect(0)
    assert collections_timed("0") == before + 1


def collections_timed(generation: str) -> float:
    (family,) = PAUSES.collect()
    return sum(
        sample.value
        for sample in family.samples
        if sample.name.endswith("_count") and sample.labels["generation"] == generation
    )


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(database_url, gc_freeze_seconds=0.05)


async def test_server_freezes_and_exports_pauses(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        first = (await client.get("/metrics")).text
        full = 'vividly_gc_pause_seconds_count{generation="2"}'

        async def ticked() -> bool:
            text = (await client.get("/metrics")).text
            return value(text, full) >= value(first, full) + 2

        await until(ticked, "the server's policy ticked (a full collection of what is new)")
        text = (await client.get("/metrics")).text
    assert value(text, "vividly_gc_frozen_objects") > 0
    assert value(text, "vividly_gc_pause_seconds_count") >= 1
    assert value(text, "vividly_gc_pause_max_seconds") > 0  # a pause was timed: the longest
    assert 'vividly_gc_pause_seconds_bucket{generation="2",le="0.02"}' in text


@pytest.mark.usefixtures("unfrozen")
def test_start_up_is_frozen_before_serving_and_not_counted_as_a_pause() -> None:
    install_pause_histogram()
    made_at_start_up = [Node() for _ in range(1000)]
    garbage = cycle()

    freeze_start_up()

    assert garbage() is None
    assert not in_generations(made_at_start_up[0])
    assert gauge("vividly_gc_pause_max_seconds") == 0.0  # start-up's collection served nobody
    assert gauge("vividly_gc_pause_max_cpu_seconds") == 0.0
    survivors = [Node() for _ in range(200_000)]  # a collection with work to do
    gc.collect()
    assert gauge("vividly_gc_pause_max_seconds") > 0.0
    # The collector's own CPU, never more than the pause (plus the clocks' granularity).
    assert (
        0.0
        < gauge("vividly_gc_pause_max_cpu_seconds")
        <= gauge("vividly_gc_pause_max_seconds") + 0.002
    )
    del survivors


def gauge(name: str) -> float:
    (family,) = (f for f in GcCollector().collect() if f.name == name)
    return float(family.samples[0].value)
