"""The Wilson interval and Newcombe's interval for a difference, against published values."""

from __future__ import annotations

import pytest

from service.notifications.experiments.proportions import difference, wilson


def test_wilson_matches_published_intervals_and_stays_in_0_1() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553 to 0.3662; 0/10 -> 0 to 0.2775.
    low, high = wilson(81, 263) or (0, 0)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    none_of_ten, all_of_ten = wilson(0, 10), wilson(10, 10)
    assert none_of_ten is not None
    assert none_of_ten[0] == 0.0  # exactly: the ends of 0 and of n successes
    assert round(none_of_ten[1], 4) == 0.2775
    assert all_of_ten is not None
    assert (round(all_of_ten[0], 4), all_of_ten[1]) == (0.7225, 1.0)
    assert wilson(0, 0) is None
    with pytest.raises(ValueError, match="3 successes of 2 trials"):
        wilson(3, 2)


def test_the_difference_matches_newcombe_and_names_a_leader_only_when_clear() -> None:
    # Newcombe (1998), table II, example (a): 56/70 - 48/80 = 0.2, method 10: 0.0524 to 0.3339.
    compared = difference(56, 70, 48, 80)
    assert compared is not None
    assert round(compared.difference, 4) == 0.2
    assert (round(compared.low, 4), round(compared.high, 4)) == (0.0524, 0.3339)
    assert compared.leader == "a"
    assert compared.p_value < 0.01  # z = 2.60 with the pooled proportion
    swapped = difference(48, 80, 56, 70)
    assert swapped is not None
    assert swapped.leader == "b"
    even = difference(10, 50, 12, 50)
    assert even is not None
    assert even.leader is None
    assert even.low < 0 < even.high
    assert even.p_value > 0.5
    assert difference(1, 2, 0, 0) is None
    nothing = difference(0, 5, 0, 5)
    assert nothing is not None
    assert nothing.p_value == 1.0
    assert nothing.leader is None
