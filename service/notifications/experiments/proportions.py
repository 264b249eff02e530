"""Confidence intervals for rates (successes out of trials), and for the difference of two.

- `wilson`: the Wilson score interval of one rate. Unlike p ± z·se it stays inside [0, 1] and is
  not empty at 0 or n successes, which matters for the small counts of a young experiment.
- `difference`: Newcombe's hybrid score interval (method 10 of Newcombe 1998) for p1 - p2,
  built from the two Wilson intervals, and the two-sided p-value of the pooled two-proportion
  z-test. A variant is ahead (`leader`) only when the interval excludes 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of successes/trials; None when there are no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes of {trials} trials")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # At 0 or all successes an end is exactly 0 or 1 (the arithmetic leaves a rounding error).
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True, slots=True)
class Difference:
    """p1 - p2 with its 95 % interval, the z-test's p-value, and which is ahead (or None)."""

    difference: float
    low: float
    high: float
    p_value: float
    leader: str | None


def difference(
    s1: int, n1: int, s2: int, n2: int, names: tuple[str, str] = ("a", "b")
) -> Difference | None:
    """How rate 1 (s1/n1) compares with rate 2 (s2/n2); None when either has no trials."""
    w1, w2 = wilson(s1, n1), wilson(s2, n2)
    if w1 is None or w2 is None:
        return None
    p1, p2 = s1 / n1, s2 / n2
    d = p1 - p2
    low = d - math.sqrt((p1 - w1[0]) ** 2 + (w2[1] - p2) ** 2)
    high = d + math.sqrt((w1[1] - p1) ** 2 + (p2 - w2[0]) ** 2)
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 1.0 if se == 0 else math.erfc(abs(d) / se / math.sqrt(2))
    leader = names[0] if low > 0 else names[1] if high < 0 else None
    return Difference(d, low, high, p_value, leader)
