"""`python -m bench.run`: start the product on a fresh database and measure it.

Prints a table and writes bench/out/results-<time>.json. See bench/RESULTS.md for a run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

from . import scenarios
from .harness import OUT, Server, fresh_database, raise_fd_limit


async def streams_and_latency(url: str, args: argparse.Namespace) -> dict[str, Any]:
    server = Server.start(url)
    try:
        # Warm up (imports, allocator, pool) with a few streams, then take the idle baseline.
        warm, _ = await scenarios.connect_fleet(server, 200)
        await scenarios.close_fleet(warm)
        await asyncio.sleep(1)
        baseline_rss = server.rss_kib()
        fleet, connect_seconds = await scenarios.connect_fleet(server, args.streams)
        await asyncio.sleep(2)
        loaded_rss = server.rss_kib()
        metrics = await server.metrics()
        result: dict[str, Any] = {
            "streams": args.streams,
            "streams_open_server": metrics.get("vividly_streams_open"),
            "listen_channels": metrics.get("vividly_listen_channels"),
            "connect_seconds": round(connect_seconds, 2),
            "rss_baseline_mib": round(baseline_rss / 1024, 1),
            "rss_loaded_mib": round(loaded_rss / 1024, 1),
            "kib_per_idle_stream": round((loaded_rss - baseline_rss) / args.streams, 2),
            "tasks_per_stream": round((metrics.get("vividly_asyncio_tasks", 0)) / args.streams, 2),
        }
        requests = await scenarios.make_requests(url, fleet.users, int(args.rate * args.seconds))
        issued = await scenarios.drive_open_loop(url, requests, args.rate)
        result["latency"] = {
            "rate_per_s": args.rate,
            "seconds": args.seconds,
            **await scenarios.collect(fleet, requests, issued),
        }
        await scenarios.close_fleet(fleet)
        return result
    finally:
        server.stop()


async def throughput(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """pgbench's rate for the completion transaction, then ours end to end, same writers."""
    server = Server.start(url)
    try:
        fleet, _ = await scenarios.connect_fleet(server, args.streams)
        await scenarios.fill_queue(url, fleet.users, 120_000)
        tps = await scenarios.pgbench(url, scenarios.COMPLETE_NEXT, args.writers, int(args.seconds))
        await asyncio.sleep(3)  # let pgbench's notifications drain
        scenarios.reset_received(fleet)
        issued, _committed, wall = await scenarios.drive_queue(url, args.seconds, args.writers)
        requests = [(r, u) for r, u in await scenarios.completed_requests(url) if r in issued]
        delivery = await scenarios.collect(fleet, requests, issued, settle=10)
        rate = len(issued) / wall
        await scenarios.close_fleet(fleet)
        return {
            "streams": args.streams,
            "writers": args.writers,
            "pgbench_tps": round(tps, 1),
            "end_to_end_per_s": round(rate, 1),
            "ratio": round(rate / tps, 3),
            "delivery": delivery,
        }
    finally:
        server.stop()


async def storm(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Restart the server under N reconnecting clients while completions continue."""
    server = Server.start(url)
    fleet, _ = await scenarios.connect_fleet(server, args.streams, reconnect=True)
    stop = asyncio.Event()
    writing = asyncio.create_task(
        scenarios.drive_background(url, fleet.users, args.storm_rate, stop)
    )
    await asyncio.sleep(2)
    restart_at = time.monotonic()
    exit_seconds = server.stop()
    server = Server.start(url, port=server.port)
    ready_at = time.monotonic()
    try:
        # Everyone back: every client connected after the restart.
        async with asyncio.timeout(120):
            while any(c.connected_at is None or c.connected_at < restart_at for c in fleet.clients):
                await asyncio.sleep(0.05)
        reconnected_at = max(c.connected_at or 0 for c in fleet.clients)
        await asyncio.sleep(3)
        stop.set()
        committed = await writing
        await asyncio.sleep(3)
        by_user = fleet.by_user
        received: dict[uuid.UUID, dict[str, float]] = {}
        duplicated = 0
        for user, client in by_user.items():
            firsts: dict[str, float] = {}
            for _nid, content, at in client.received.notifications:
                if content in firsts:
                    duplicated += 1
                else:
                    firsts[content] = at
            received[user] = firsts
        lost = 0
        caught_up = reconnected_at
        for request_id, (user, commit_at) in committed.items():
            arrival = received[user].get(str(request_id))
            if arrival is None:
                lost += 1
            elif commit_at < ready_at:
                caught_up = max(caught_up, arrival)  # missed during the restart, replayed after
        await scenarios.close_fleet(fleet)
        return {
            "clients": args.streams,
            "completions_per_s_during": args.storm_rate,
            "notifications_committed": len(committed),
            "old_server_exit_s": round(exit_seconds, 2),
            "server_down_to_ready_s": round(ready_at - restart_at, 2),
            "all_reconnected_after_s": round(reconnected_at - restart_at, 2),
            "all_caught_up_after_s": round(caught_up - restart_at, 2),
            "lost": lost,
            "duplicated": duplicated,
        }
    finally:
        stop.set()
        server.stop()


async def polling(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The same clients and completions, once polling /history every 2 s, once on SSE."""
    results: dict[str, Any] = {"clients": args.pollers, "completions_per_s": args.poll_rate}
    for mode in ("polling", "sse"):
        server = Server.start(url)
        users = [uuid.uuid4() for _ in range(args.pollers)]
        fleet = None
        stop = asyncio.Event()
        try:
            if mode == "sse":
                fleet, _ = await scenarios.connect_fleet(server, args.pollers)
                users = fleet.users
                polling_task = None
            else:
                polling_task = asyncio.create_task(
                    scenarios.poll_history(server.url, users, 2.0, stop)
                )
                await asyncio.sleep(2.5)  # every poller has started
            cpu_before = (await server.metrics())["process_cpu_seconds_total"]
            xacts_before = await scenarios.database_transactions(url)
            started = time.monotonic()
            writer_stop = asyncio.Event()
            writing = asyncio.create_task(
                scenarios.drive_background(url, users, args.poll_rate, writer_stop)
            )
            await asyncio.sleep(args.poll_seconds)
            writer_stop.set()
            committed = await writing
            await asyncio.sleep(2.5)  # the last polls
            elapsed = time.monotonic() - started
            xacts = await scenarios.database_transactions(url) - xacts_before - len(committed)
            cpu = (await server.metrics())["process_cpu_seconds_total"] - cpu_before
            stop.set()
            if polling_task is not None:
                seen = await polling_task
            else:
                assert fleet is not None
                seen = {
                    content: at
                    for client in fleet.clients
                    for _nid, content, at in client.received.notifications
                }
                await scenarios.close_fleet(fleet)
            latencies = [
                (seen[str(request_id)] - commit_at) * 1000
                for request_id, (_user, commit_at) in committed.items()
                if str(request_id) in seen
            ]
            results[mode] = {
                "delivered": len(latencies),
                "committed": len(committed),
                "p50_ms": round(scenarios.percentile(latencies, 0.5), 1),
                "p99_ms": round(scenarios.percentile(latencies, 0.99), 1),
                "db_transactions_per_client_per_s": round(xacts / elapsed / args.pollers, 4),
                "server_cpu_ms_per_client_per_s": round(cpu * 1000 / elapsed / args.pollers, 4),
            }
        finally:
            stop.set()
            server.stop()
    return results


async def soak(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Streams opening and closing for `--soak-minutes`: RSS, channels and tasks over time."""
    server = Server.start(url)
    try:
        baseline = await server.metrics()
        users = [uuid.uuid4() for _ in range(args.soak_streams * 2)]
        stop = asyncio.Event()
        churning = asyncio.create_task(
            scenarios.churn(server, users, args.soak_streams, (1.0, 20.0), stop)
        )
        writer_stop = asyncio.Event()
        writing = asyncio.create_task(scenarios.drive_background(url, users, 20, writer_stop))
        samples: list[dict[str, float]] = []
        started = time.monotonic()
        while time.monotonic() - started < args.soak_minutes * 60:
            await asyncio.sleep(15)
            metrics = await server.metrics()
            samples.append(
                {
                    "t_s": round(time.monotonic() - started),
                    "rss_mib": round(server.rss_kib() / 1024, 1),
                    "streams": metrics["vividly_streams_open"],
                    "channels": metrics["vividly_listen_channels"],
                    "tasks": metrics["vividly_asyncio_tasks"],
                }
            )
            print(samples[-1], flush=True)
        stop.set()
        writer_stop.set()
        counts = await churning
        await writing
        await asyncio.sleep(8)  # past UNLISTEN_DELAY_SECONDS
        final = await server.metrics()
        after_warmup = next(s for s in samples if s["t_s"] >= 60)
        end = samples[-1]
        return {
            "minutes": args.soak_minutes,
            "concurrent_streams": args.soak_streams,
            "streams_opened": counts["opened"],
            "streams_refused_429_per_user_limit": counts["refused_429"],
            "streams_refused_other": counts["refused_other"],
            "rss_at_1_min_mib": after_warmup["rss_mib"],
            "rss_at_end_mib": end["rss_mib"],
            "rss_growth_pct": round(
                (end["rss_mib"] - after_warmup["rss_mib"]) / after_warmup["rss_mib"] * 100, 2
            ),
            "channels_after_close": final["vividly_listen_channels"],
            "streams_after_close": final["vividly_streams_open"],
            "tasks_before": baseline["vividly_asyncio_tasks"],
            "tasks_after_close": final["vividly_asyncio_tasks"],
            "samples": samples,
        }
    finally:
        server.stop()


SCENARIOS = {
    "streams": streams_and_latency,
    "throughput": throughput,
    "storm": storm,
    "polling": polling,
    "soak": soak,
}
DEFAULT = ["streams", "throughput", "storm", "polling"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "scenarios", nargs="*", default=DEFAULT, help=f"any of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--storm-rate", type=float, default=200)
    parser.add_argument("--pollers", type=int, default=1000)
    parser.add_argument("--poll-rate", type=float, default=20)
    parser.add_argument("--poll-seconds", type=float, default=20)
    parser.add_argument("--soak-minutes", type=float, default=10)
    parser.add_argument("--soak-streams", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=8, help="Connections completing requests.")
    args = parser.parse_args()
    raise_fd_limit()
    OUT.mkdir(exist_ok=True)
    url = fresh_database()
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}

    async def run_all() -> None:
        for name in args.scenarios:
            print(f"== {name}", flush=True)
            results[name] = await SCENARIOS[name](url, args)
            print(json.dumps(results[name], indent=2), flush=True)

    try:
        import uvloop

        uvloop.run(run_all())
    except ImportError:
        asyncio.run(run_all())
    path = OUT / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
