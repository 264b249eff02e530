"""The long benchmarks: a soak of idle streams, and a day of a class (reconnects, token
renewals, maximum ages, completions) compressed into minutes."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import Counter
from typing import Any

from . import observe, scenarios, writers
from .harness import (
    Server,
)


async def soak(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Streams opening and closing for `--soak-minutes`: RSS, channels and tasks over time."""
    server = Server.start(url)
    try:
        baseline = await server.metrics()
        users = [uuid.uuid4() for _ in range(args.soak_streams * 2)]
        stop = asyncio.Event()
        churning = asyncio.create_task(
            observe.churn(server, users, args.soak_streams, (1.0, 20.0), stop)
        )
        writer_stop = asyncio.Event()
        writing = asyncio.create_task(writers.drive_background(url, users, 20, writer_stop))
        samples = await observe.sample_server(server, args.soak_minutes)
        stop.set()
        writer_stop.set()
        counts = await churning
        await writing
        await asyncio.sleep(8)  # past UNLISTEN_DELAY_SECONDS
        final = await server.metrics()
        return {
            "minutes": args.soak_minutes,
            "concurrent_streams": args.soak_streams,
            "streams_opened": counts["opened"],
            "streams_refused_429_per_user_limit": counts["refused_429"],
            "streams_refused_other": counts["refused_other"],
            **observe.growth(samples),
            "channels_after_close": final["vividly_listen_channels"],
            "streams_after_close": final["vividly_streams_open"],
            "tasks_before": baseline["vividly_asyncio_tasks"],
            "tasks_after_close": final["vividly_asyncio_tasks"],
            "samples": samples,
        }
    finally:
        server.stop()


async def day(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """A day of long-lived streams compressed: keepalives every 0.15 s, streams that reach
    their maximum age and tokens that expire (each client renews and resumes from its cursor),
    completions throughout. RSS, frozen GC objects, channels and tasks over time."""
    server = Server.start(
        url,
        env={
            "KEEPALIVE_SECONDS": str(args.day_keepalive),
            "STREAM_MAX_AGE_SECONDS": str(args.day_max_age),
        },
    )
    try:
        await asyncio.sleep(2)  # past the first GC freeze: the idle process's frozen objects
        baseline = await server.metrics()
        fleet, _ = await scenarios.connect_fleet(
            server, args.day_streams, reconnect=True, token_ttl=args.day_token_ttl
        )
        stop = asyncio.Event()
        writing = asyncio.create_task(
            writers.drive_background(url, fleet.users, args.day_rate, stop)
        )
        samples = await observe.sample_server(server, args.day_minutes)
        stop.set()
        committed = await writing
        await asyncio.sleep(10)  # the last deliveries, and streams mid-reconnect
        delivery = observe.delivery_of(fleet, committed)
        for lost in delivery["missing"]:
            lost["notification"] = await observe.notification_of(url, lost["request"])
        ends = Counter(name for client in fleet.clients for name, _at in client.received.named)
        connects = sum(client.connects for client in fleet.clients)
        await scenarios.close_fleet(fleet)
        await asyncio.sleep(args.day_settle)  # past UNLISTEN_DELAY_SECONDS
        final = await server.metrics()
        return {
            "minutes": args.day_minutes,
            "streams": args.day_streams,
            "keepalive_s": args.day_keepalive,
            "keepalives_per_stream": round(args.day_minutes * 60 / args.day_keepalive),
            "max_age_s": args.day_max_age,
            "token_ttl_s": args.day_token_ttl,
            "connects": connects,
            "named_events": dict(ends),
            "committed": delivery["committed"],
            "lost": delivery["lost"],
            "duplicated": delivery["duplicated"],
            "lost_detail": delivery["missing"],
            "ended_at": round(time.monotonic(), 3),
            **observe.growth(samples),
            "channels_after_close": final["vividly_listen_channels"],
            "streams_after_close": final["vividly_streams_open"],
            "tasks_before": baseline["vividly_asyncio_tasks"],
            "tasks_after_close": final["vividly_asyncio_tasks"],
            "gc_frozen_after_close": final["vividly_gc_frozen_objects"],
            "gc_frozen_before": baseline["vividly_gc_frozen_objects"],
            "samples": samples,
        }
    finally:
        server.stop()
