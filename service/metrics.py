"""Prometheus metrics, read from the hub and the listener when scraped (nothing per event).

Each app has its own registry, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from .hub import Hub
from .listener import Listener
from .supervisor import Supervisor


class _ServiceCollector(Collector):
    def __init__(self, hub: Hub, listener: Listener, supervisor: Supervisor) -> None:
        self._hub = hub
        self._listener = listener
        self._supervisor = supervisor

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "vividly_streams_open", "Open SSE streams.", value=self._hub.stream_count()
        )
        yield GaugeMetricFamily(
            "vividly_stream_users", "Users with at least one open stream.",
            value=len(self._hub.users()),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "vividly_listen_channels", "Channels LISTENed by this process.",
            value=self._listener.channel_count,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "vividly_listener_connected", "1 when the listener connection is up.",
            value=1 if self._listener.connected.is_set() else 0,
        )  # fmt: skip
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


def registry_for(hub: Hub, listener: Listener, supervisor: Supervisor) -> CollectorRegistry:
    """A registry with this process's service and process (RSS, CPU, fds) metrics."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_ServiceCollector(hub, listener, supervisor))
    ProcessCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition of `registry`."""
    return generate_latest(registry)
