"""Probe judgement without a database: unheard only when committed, a failed send counts
neither way, one heard clears the streak, a late echo of an older probe counts for nothing."""

from __future__ import annotations

from service.live.probes import Probes


def test_only_committed_probes_that_did_not_come_back_count_as_unheard() -> None:
    probes = Probes()
    first = probes.next()
    probes.committed(first)
    probes.next()  # the first was not heard
    assert (probes.deaf_streak, probes.unheard) == (1, 1)
    probes.send_failed(TimeoutError())  # the second could not be sent: slowness
    third = probes.next()
    assert probes.deaf_streak == 1
    assert (probes.failed, probes.error) == (1, "TimeoutError")
    probes.committed(third)
    probes.echo(first)  # a late echo of an older probe
    assert probes.heard == 0
    probes.echo(third)
    assert (probes.deaf_streak, probes.heard, probes.error) == (0, 1, None)
    assert probes.heard_at is not None
    probes.next()  # heard: not unheard
    assert (probes.deaf_streak, probes.unheard) == (0, 1)


def test_a_lost_connection_forgets_its_evidence_but_not_the_last_time_heard() -> None:
    probes = Probes()
    payload = probes.next()
    probes.committed(payload)
    probes.echo(payload)
    unheard = probes.next()
    probes.committed(unheard)
    probes.next()
    assert probes.deaf_streak == 1
    probes.reset()
    assert (probes.deaf_streak, probes.heard_at) == (0, None)
    assert probes.last_heard_at is not None
