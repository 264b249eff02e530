"""Prometheus metrics: most are read from the hub and the listener when scraped; the few that
only exist per event (deliveries, their latency) are counted by `EventMetrics`.

Each app has its own registry, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator, Sequence

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from ..live.hub import Hub
from ..live.listener import Listener
from ..notifications.deliveries import DeliveryRecorder, ReachCounts
from ..runtime.pauses import GcCollector
from ..runtime.supervisor import Supervisor


class _ServiceCollector(Collector):
    def __init__(
        self,
        hub: Hub,
        listener: Listener,
        supervisor: Supervisor,
        reach: ReachCounts,
        deliveries: DeliveryRecorder,
        channels: Sequence[str],
        max_streams: int | None,
    ) -> None:
        self._hub = hub
        self._channels = tuple(channels)
        self._max_streams = max_streams
        self._deliveries = deliveries
        self._listener = listener
        self._supervisor = supervisor
        self._reach = reach

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "vividly_streams_open", "Open SSE streams.", value=self._hub.stream_count()
        )
        if self._max_streams is not None:
            yield GaugeMetricFamily(
                "vividly_max_streams", "MAX_STREAMS: open streams this process admits.",
                value=self._max_streams,
            )  # fmt: skip
        yield GaugeMetricFamily(
            "vividly_stream_users", "Users with at least one open stream.",
            value=len(self._hub.users()),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "vividly_listen_channels", "Channels LISTENed by this process.",
            value=self._listener.channel_count,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "vividly_listen_shards",
            "Shard channels of the channel mode the listener follows (0: per-user channels).",
            value=self._listener.mode.shards or 0,
        )
        yield GaugeMetricFamily(
            "vividly_listener_connected", "1 when the listener connection is up.",
            value=1 if self._listener.connected.is_set() else 0,
        )  # fmt: skip
        age = self._listener.probe_age()
        yield GaugeMetricFamily(
            "vividly_listener_probe_age_seconds",
            "Seconds since the listener last heard its own probe NOTIFY (NaN before the first).",
            value=math.nan if age is None else age,
        )
        yield GaugeMetricFamily(
            "vividly_listener_deaf",
            "1 while the listener is deaf (probes committed and unheard several times in a row).",
            value=1 if self._listener.deaf() else 0,
        )
        probes = CounterMetricFamily(
            "vividly_listener_probes",
            "Probe NOTIFYs by outcome: heard, unheard (committed, not heard by the next "
            "heartbeat), failed (not sent: the pool or the database was slow).",
            labels=["outcome"],
        )
        counted = self._listener.probes
        probes.add_metric(["heard"], counted.heard)
        probes.add_metric(["unheard"], counted.unheard)
        probes.add_metric(["failed"], counted.failed)
        yield probes
        yield GaugeMetricFamily(
            "vividly_asyncio_tasks", "asyncio tasks alive in this process.",
            value=len(asyncio.all_tasks()),
        )  # fmt: skip
        yield CounterMetricFamily(
            "vividly_listener_reconnects", "Listener reconnects.", value=self._listener.reconnects
        )
        yield CounterMetricFamily(
            "vividly_notifications_received", "NOTIFYs received by the listener.",
            value=self._listener.notifications_received,
        )  # fmt: skip
        yield CounterMetricFamily(
            "vividly_events_queued", "Events offered to streams.", value=self._hub.delivered
        )
        closed = CounterMetricFamily(
            "vividly_streams_closed", "Streams ended, by reason.", labels=["reason"]
        )
        for reason, count in sorted(self._hub.closed_by_reason.items()):
            closed.add_metric([reason], count)
        yield closed
        refused = CounterMetricFamily(
            "vividly_streams_refused", "Streams refused at admission, by reason.",
            labels=["reason"],
        )  # fmt: skip
        for reason, count in sorted(self._hub.refused_by_reason.items()):
            refused.add_metric([reason], count)
        yield refused
        crashes = CounterMetricFamily(
            "vividly_task_crashes", "Background task crashes (each restarted).", labels=["task"]
        )
        for task, count in sorted(self._supervisor.crashes.items()):
            crashes.add_metric([task], count)
        yield crashes
        restarting = GaugeMetricFamily(
            "vividly_task_restarting",
            "1 while a background task waits out its backoff after a crash (or has ended).",
            labels=["task", "optional"],
        )
        for task, optional in sorted(self._supervisor.troubled().items()):
            restarting.add_metric([task, "true" if optional else "false"], 1)
        yield restarting
        yield from self._reach_metrics()

    def _reach_metrics(self) -> Iterator[Metric]:
        # By channel, not by type: these count what this process wrote (the recorder's flush
        # learns a row count, not the rows), while per-type numbers, across processes, are the
        # table's: GET /api/v1/admin/analytics. Notifications created are not counted here
        # either: the worker's transaction creates them (a trigger), not this process.
        reach = self._reach
        first = CounterMetricFamily(
            "vividly_notifications_first_delivered",
            "Notifications whose first delivery this process recorded, by channel "
            "(the live stream, or another delivery channel); later deliveries are not counted.",
            labels=["channel"],
        )
        for channel in sorted({*self._channels, *reach.first_delivered}):
            first.add_metric([channel], reach.first_delivered[channel])
        yield first
        pushes = CounterMetricFamily(
            "vividly_push_attempts",
            "Web Push attempts by outcome: sent (the push service accepted it), retried, gone "
            "(404/410: the subscription was removed), failed (given up), cancelled (read, seen "
            "or moved before its send).",
            labels=["outcome"],
        )
        for outcome in sorted({"sent", "retried", "gone", "failed", "cancelled", *reach.pushes}):
            pushes.add_metric([outcome], reach.pushes[outcome])
        yield pushes
        digests = CounterMetricFamily(
            "vividly_digest_emails",
            "Email digest attempts by outcome: sent (the SMTP server accepted it), retried, "
            "failed (refused for good, or given up), cancelled (opted out, unconfirmed, or "
            "everything in it read or seen before its send).",
            labels=["outcome"],
        )
        for outcome in sorted({"sent", "retried", "failed", "cancelled", *reach.digests}):
            digests.add_metric([outcome], reach.digests[outcome])
        yield digests
        yield CounterMetricFamily(
            "vividly_notifications_seen", "Notifications first reported on screen (this API).",
            value=reach.seen,
        )  # fmt: skip
        yield CounterMetricFamily(
            "vividly_notifications_opened", "Notifications first opened (this API).",
            value=reach.opened,
        )  # fmt: skip
        recorder = self._deliveries
        yield GaugeMetricFamily(
            "vividly_delivery_records_pending",
            "Stream deliveries recorded by this process, not yet written to the table.",
            value=recorder.pending,
        )
        yield CounterMetricFamily(
            "vividly_delivery_records_dropped",
            "Stream deliveries dropped unwritten (more than DELIVERY_MAX_PENDING pending).",
            value=recorder.dropped,
        )
        yield CounterMetricFamily(
            "vividly_delivery_record_failures",
            "Failed writes of stream deliveries (each kept and retried).",
            value=recorder.failures,
        )


def registry_for(
    hub: Hub,
    listener: Listener,
    supervisor: Supervisor,
    reach: ReachCounts,
    deliveries: DeliveryRecorder,
    channels: Sequence[str],
    *,
    max_streams: int | None = None,
) -> CollectorRegistry:
    """A registry with this process's service and process (RSS, CPU, fds) metrics; every one of
    `channels` (the delivery channels' names) is exported from the start, at 0."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(
        _ServiceCollector(hub, listener, supervisor, reach, deliveries, channels, max_streams)
    )
    registry.register(GcCollector())
    ProcessCollector(registry=registry)
    return registry


# Seconds from a NOTIFY's arrival to its event written to a stream: milliseconds when healthy,
# up to the GC pauses and send timeouts of bench/RESULTS.md when not.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUEUE_USAGE_TIMEOUT = 2.0


class EventMetrics:
    """Counted as it happens: notifications written to streams (live or replayed), the time
    from NOTIFY to write, and Postgres's notification queue fill (read at each scrape)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        delivered = Counter(
            "vividly_notifications_delivered",
            "Notifications written to streams: live (after a NOTIFY or a listener catch-up), "
            "or replayed from a client's cursor.",
            ["path"],
            registry=registry,
        )
        self.delivered_live = delivered.labels("live")
        self.delivered_replayed = delivered.labels("replayed")
        self.notify_to_write = Histogram(
            "vividly_notify_to_write_seconds",
            "From the listener receiving a notification's NOTIFY to its event written to a stream.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.commit_to_write = Histogram(
            "vividly_commit_to_write_seconds",
            "From a live notification's created_at (its transaction's time, on the database's "
            "clock) to its event written to a stream: the transaction's own length, the commit, "
            "NOTIFY, fan-out and write, plus any clock skew between database and API host.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._queue_usage = Gauge(
            "vividly_notification_queue_usage",
            "pg_notification_queue_usage(): the fill of Postgres's 8 GB NOTIFY queue (0 to 1); "
            "NaN when the database did not answer.",
            registry=registry,
        )

    async def refresh(self, pool: asyncpg.Pool) -> None:
        """Read what has to be asked of the database (called by each scrape)."""
        try:
            async with asyncio.timeout(QUEUE_USAGE_TIMEOUT):
                usage = await pool.fetchval("SELECT pg_notification_queue_usage()")
        except Exception:  # a scrape must answer even when the database does not
            usage = math.nan
        self._queue_usage.set(usage)


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of `registry`."""
    return generate_latest(registry)
