"""The benchmark harness's pure helpers (bench/harness.py)."""

from __future__ import annotations

from bench.harness import latency_bounds


def scrape(**buckets: float) -> dict[str, float]:
    return {f'x_seconds_bucket{{le="{le}"}}': count for le, count in buckets.items()}


def test_latency_bounds_add_servers_up_between_their_scrapes() -> None:
    def two(low: float, mid: float, total: float) -> dict[str, float]:
        return {**scrape(**{"0.01": low, "0.05": mid}), 'x_seconds_bucket{le="+Inf"}': total}

    before = [two(5, 5, 5), two(0, 0, 0)]  # what came before the window does not count
    after = [two(50, 54, 55), two(45, 50, 50)]  # 100 in the window: 90 by 10 ms, 99 by 50
    bounds = latency_bounds("x_seconds", before, after)
    assert bounds["p50_le_ms"] == 10.0
    assert bounds["p99_le_ms"] == 50.0
    assert bounds["max_le_ms"] == "+Inf"


def test_latency_bounds_of_nothing_observed_are_none() -> None:
    empty = [{'x_seconds_bucket{le="+Inf"}': 0.0}]
    assert latency_bounds("x_seconds", empty, empty) == {
        "p50_le_ms": None,
        "p99_le_ms": None,
        "max_le_ms": None,
    }
