"""`/metrics` shows streams, channels and listener state as they change."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx

from db.pool import connect
from tests.support.metrics import value
from tests.support.server import complete, open_stream, running_server, settings_for
from tests.support.waiting import until


async def test_metrics_follow_open_streams(database_url: str) -> None:
    async with (
        running_server(settings_for(database_url)) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        before = (await client.get("/metrics")).text
        assert value(before, "vividly_streams_open") == 0
        assert value(before, "vividly_listener_connected") == 1
        assert value(before, "vividly_listen_shards") == 0  # per-user channels
        assert value(before, "process_resident_memory_bytes") > 0
        # The stream delivery recorder (notifications/deliveries.py): nothing pending, lost,
        # failed.
        assert value(before, "vividly_delivery_records_pending") == 0
        assert value(before, "vividly_delivery_records_dropped_total") == 0
        assert value(before, "vividly_delivery_record_failures_total") == 0
        # Every channel and outcome is there from the start (a rate() needs its zero).
        for channel in ("stream", "push", "email"):
            first = rf'vividly_notifications_first_delivered_total\{{channel="{channel}"\}}'
            assert value(before, first) == 0
        for outcome in ("sent", "retried", "failed", "cancelled"):
            assert value(before, rf'vividly_digest_emails_total\{{outcome="{outcome}"\}}') == 0
        async with open_stream(server.base_url, server.token(uuid.uuid4())) as stream:
            await stream.next_data()
            during = (await client.get("/metrics")).text
        assert value(during, "vividly_streams_open") == 1
        assert value(during, "vividly_listen_channels") == 1
        assert value(during, "vividly_asyncio_tasks") > value(before, "vividly_asyncio_tasks")


async def test_the_guides_name_counters_as_metrics_exposes_them(database_url: str) -> None:
    # A counter is exposed as `<name>_total`: an alert on the bare name matches nothing.
    async with (
        running_server(settings_for(database_url)) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        exposed = (await client.get("/metrics")).text
    counters = {
        name.removesuffix("_total")
        for name in re.findall(r"^# TYPE (vividly_\w+) counter$", exposed, re.MULTILINE)
    }
    assert "vividly_listener_reconnects" in counters
    root = Path(__file__).resolve().parents[2]
    for guide in ("README.md", "docs/deployment.md"):
        named = set(re.findall(r"\bvividly_\w+", (root / guide).read_text()))
        bare = {name for name in named if name in counters}
        assert not bare, f"{guide} names counters without their _total: {sorted(bare)}"


async def test_metrics_show_the_probe_age_the_stream_limit_and_commit_to_write(
    database_url: str,
) -> None:
    async with (
        running_server(settings_for(database_url, max_streams=1234)) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        await until(lambda: server.listener.probe_age() is not None, "a probe is heard")
        text = (await client.get("/metrics")).text
        assert value(text, "vividly_max_streams") == 1234
        # Heard within the last heartbeat or so (1 s here).
        assert 0 <= value(text, "vividly_listener_probe_age_seconds") < 3
        assert value(text, "vividly_listener_deaf") == 0
        assert value(text, r'vividly_listener_probes_total\{outcome="heard"\}') >= 1
        user = uuid.uuid4()
        async with open_stream(server.base_url, server.token(user)) as stream:
            await stream.next_data()
            conn = await connect(database_url)
            try:
                await complete(conn, user)
            finally:
                await conn.close()
            await stream.notifications(1)
            after = (await client.get("/metrics")).text
    assert value(after, "vividly_commit_to_write_seconds_count") == 1
    # Same host, same clock: from the transaction's time to the write, well under a second.
    assert 0 <= value(after, "vividly_commit_to_write_seconds_sum") < 1
