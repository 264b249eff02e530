"""`python -m bench.run`: start the product on a fresh database and measure it.

Prints a table and writes bench/out/results-<time>.json. See bench/RESULTS.md for a run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
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


SCENARIOS = {"streams": streams_and_latency}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS), choices=list(SCENARIOS))
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
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
