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

import asyncpg

from db.urls import asyncpg_dsn
from service.live.channel_mode import ChannelMode, set_mode

from . import fleet as fleet_runs
from . import long_runs, notify_cost, observe, rolling, scenarios, writers
from .harness import (
    OUT,
    Server,
    fresh_database,
    gc_pauses,
    raise_fd_limit,
)


async def streams_and_latency(url: str, args: argparse.Namespace) -> dict[str, Any]:
    server = Server.start(url)
    try:
        # Warm up (imports, allocator, pool) with a few streams, then take the idle baseline.
        warm, _ = await scenarios.connect_fleet(server, 200)
        await scenarios.close_fleet(warm)
        await asyncio.sleep(1)
        baseline_rss = server.rss_kib()
        before_connect = await server.metrics()
        fleet, connect_seconds = await scenarios.connect_fleet(server, args.streams)
        await asyncio.sleep(2)
        loaded_rss = server.rss_kib()
        metrics = await server.metrics()
        await asyncio.sleep(args.idle_seconds)
        idle = await server.metrics()
        result: dict[str, Any] = {
            "streams": args.streams,
            "streams_open_server": metrics.get("vividly_streams_open"),
            "listen_channels": metrics.get("vividly_listen_channels"),
            "connect_seconds": round(connect_seconds, 2),
            "rss_baseline_mib": round(baseline_rss / 1024, 1),
            "rss_loaded_mib": round(loaded_rss / 1024, 1),
            "kib_per_idle_stream": round((loaded_rss - baseline_rss) / args.streams, 2),
            "tasks_per_stream": round((metrics.get("vividly_asyncio_tasks", 0)) / args.streams, 2),
            "gc_while_connecting": gc_pauses(before_connect, metrics),
            f"gc_idle_{args.idle_seconds:g}s": gc_pauses(metrics, idle),
        }
        requests = await scenarios.make_requests(url, fleet.users, int(args.rate * args.seconds))
        commit_ms: list[float] = []
        with scenarios.OwnPauses() as harness:
            issued = await scenarios.drive_open_loop(url, requests, args.rate, commit_ms=commit_ms)
            delivery = await scenarios.collect(fleet, requests, issued)
        result["latency"] = {
            "rate_per_s": args.rate,
            "seconds": args.seconds,
            **delivery,
            "update_commit_p99_ms": round(scenarios.percentile(commit_ms, 0.99), 1),
            "update_commit_max_ms": round(max(commit_ms), 1),
            "server_gc": gc_pauses(idle, await server.metrics()),
            "harness_gc": harness.summary(),
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
        await writers.fill_queue(url, fleet.users, 120_000)
        tps = await writers.pgbench(url, scenarios.COMPLETE_NEXT, args.writers, int(args.seconds))
        await asyncio.sleep(3)  # let pgbench's notifications drain
        scenarios.reset_received(fleet)
        issued, _committed, wall = await writers.drive_queue(url, args.seconds, args.writers)
        requests = [(r, u) for r, u in await writers.completed_requests(url) if r in issued]
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
    """Restart every server at once under `--streams` reconnecting clients (bench/fleet.py)."""
    return await fleet_runs.storm_run(url, args.storm_processes, args)


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
                    observe.poll_history(server.url, users, 2.0, stop)
                )
                await asyncio.sleep(2.5)  # every poller has started
            cpu_before = (await server.metrics())["process_cpu_seconds_total"]
            xacts_before = await writers.database_transactions(url)
            started = time.monotonic()
            writer_stop = asyncio.Event()
            writing = asyncio.create_task(
                writers.drive_background(url, users, args.poll_rate, writer_stop)
            )
            await asyncio.sleep(args.poll_seconds)
            writer_stop.set()
            committed = await writing
            await asyncio.sleep(2.5)  # the last polls
            elapsed = time.monotonic() - started
            xacts = await writers.database_transactions(url) - xacts_before - len(committed)
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


async def fleet(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """`--streams` split over each of `--fleet-processes` server counts on one database,
    `--rate` completions/s for `--seconds` (bench/fleet.py); the last size's figures last."""
    runs = []
    for processes in args.fleet_processes:
        runs.append(await fleet_runs.fleet_run(url, processes, args))
        print({k: v for k, v in runs[-1].items() if k != "delivery"}, flush=True)
    return {"rate_per_s": args.rate, "seconds": args.seconds, "runs": runs, "summary": runs[-1]}


async def rolling_deploy(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Replicas restarted one at a time under browser-like clients (bench/rolling.py)."""
    replicas = args.rolling_replicas
    # The others must hold a stopped replica's streams: room for 1/(N-1) more, plus a tenth.
    limit = args.rolling_limit or int(args.rolling_clients / (replicas - 1) * 1.1)
    return await rolling.rolling(
        url,
        clients=args.rolling_clients,
        replicas=replicas,
        limit=limit,
        rate=args.storm_rate,
        drain=args.rolling_drain,
        unready=args.rolling_unready,
    )


SCENARIOS = {
    "streams": streams_and_latency,
    "throughput": throughput,
    "storm": storm,
    "polling": polling,
    "soak": long_runs.soak,
    "day": long_runs.day,
    "fleet": fleet,
    "rolling": rolling_deploy,
    "notify-cost": notify_cost.notify_cost,
    "connect": fleet_runs.connect_cost,
}
DEFAULT = ["streams", "throughput", "storm", "polling"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "scenarios", nargs="*", default=DEFAULT, help=f"any of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--idle-seconds", type=float, default=30, help="Idle streams, GC watched.")
    parser.add_argument("--storm-rate", type=float, default=200)
    parser.add_argument(
        "--storm-processes", type=int, default=1, help="Servers restarted together in a storm."
    )
    parser.add_argument(
        "--browser-retry",
        action="store_true",
        help="Storm clients wait the server's retry: (3 s) plus jitter, as browsers do.",
    )
    parser.add_argument("--rolling-clients", type=int, default=3000)
    parser.add_argument("--rolling-replicas", type=int, default=3)
    parser.add_argument(
        "--rolling-limit", type=int, default=0, help="MAX_STREAMS each (0: clients/(N-1) + 10 %%)."
    )
    parser.add_argument("--rolling-drain", type=float, default=10, help="SHUTDOWN_DRAIN_SECONDS")
    parser.add_argument("--rolling-unready", type=float, default=2, help="SHUTDOWN_UNREADY_SECONDS")
    parser.add_argument("--pollers", type=int, default=1000)
    parser.add_argument("--poll-rate", type=float, default=20)
    parser.add_argument("--poll-seconds", type=float, default=20)
    parser.add_argument("--soak-minutes", type=float, default=10)
    parser.add_argument("--soak-streams", type=int, default=2000)
    parser.add_argument("--day-minutes", type=float, default=14.4)
    parser.add_argument("--day-streams", type=int, default=2000)
    parser.add_argument("--day-keepalive", type=float, default=0.15)
    parser.add_argument("--day-max-age", type=float, default=60)
    parser.add_argument("--day-token-ttl", type=float, default=60)
    parser.add_argument("--day-rate", type=float, default=20)
    parser.add_argument("--day-settle", type=float, default=8)
    parser.add_argument(
        "--fleet-processes", type=int, nargs="+", default=[1, 2, 4, 8], help="Fleet sizes."
    )
    parser.add_argument("--writers", type=int, default=8, help="Connections completing requests.")
    parser.add_argument(
        "--shards",
        type=int,
        default=None,
        help="Run the service with this many shard channels (default: per-user channels).",
    )
    parser.add_argument(
        "--notify-channels",
        type=int,
        nargs="+",
        default=[1000, 10_000, 50_000, 100_000],
        help="notify-cost: users followed (per-user channels LISTENed) in all.",
    )
    parser.add_argument(
        "--notify-listeners", type=int, nargs="+", default=[1, 4, 8], help="notify-cost: K."
    )
    parser.add_argument(
        "--notify-modes", nargs="+", default=["per-user", "shards"], choices=["per-user", "shards"]
    )
    parser.add_argument("--notify-count", type=int, default=3000, help="notify-cost: N per run.")
    parser.add_argument("--notify-shards", type=int, default=64, help="notify-cost: S.")
    parser.add_argument(
        "--notify-via",
        default="pg_notify",
        choices=["pg_notify", "function"],
        help="notify-cost: the writer calls pg_notify, or the triggers' vividly_notify_user_v1.",
    )
    args = parser.parse_args()
    raise_fd_limit()
    OUT.mkdir(exist_ok=True)
    url = fresh_database()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "channels": "per-user" if args.shards is None else f"shards ({args.shards})",
    }

    async def run_all() -> None:
        if args.shards is not None:
            connection = await asyncpg.connect(asyncpg_dsn(url))
            try:
                await set_mode(connection, ChannelMode(args.shards))
            finally:
                await connection.close()
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
    # The last line: the last scenario's figures as one JSON object (its summary, when it has one).
    last = results[args.scenarios[-1]]
    summary = last.get("summary", last) if isinstance(last, dict) else last
    print(json.dumps({k: v for k, v in summary.items() if k not in ("delivery", "missing")}))


if __name__ == "__main__":
    main()
