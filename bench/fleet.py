"""Many `serve` processes on one database, clients from many processes (`client_fleet.py`).

`fleet_run`: `streams` split over `processes` servers; `rate` completions/s to random students
for `seconds`. `storm_run`: every server restarted at once under reconnecting, browser-like
clients while completions continue. Each returns its figures and a flat `summary` (the JSON
line `bench.run` prints last).

Server CPU is read from /proc (user + system of each `serve` process), Postgres CPU from its
processes by role (`postgres_cpu_by_role`), memory as RSS; the longest collection pause from each
server's `vividly_gc_pause_max_seconds` (every pause since it started, connects included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
import uuid
from pathlib import Path
from typing import Any

from . import observe, scenarios, writers
from .client_fleet import ClientFleet, Recorded
from .harness import Server, gc_pauses, latency_bounds, postgres_cpu_by_role


def cpu_split(server: Server) -> tuple[float, float]:
    """User and system CPU seconds the server process used so far."""
    return process_cpu(server.process.pid)


def process_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds process `pid` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def cpu_seconds(server: Server) -> float:
    """User + system CPU the server process used so far."""
    return sum(cpu_split(server))


def clients_cpu(clients: ClientFleet) -> float:
    """CPU seconds the load generator's children used so far."""
    return sum(sum(process_cpu(pid)) for pid in clients.pids)


async def gc_maxima(servers: list[Server]) -> dict[str, float | None]:
    """From one scrape of each of `servers`: the longest collection pause since it started
    serving (`gc_max_ms`) and the most CPU one collection took (`gc_max_cpu_ms`).

    A server without the gauges (code before issue 25, under BENCH_SERVER_DIR) gives the upper
    bound of its histogram's slowest bucket as its pause, and no CPU figure."""
    scraped = await asyncio.gather(*(server.metrics() for server in servers))
    longest = 0.0
    busiest: float | None = None
    for metrics in scraped:
        if "vividly_gc_pause_max_seconds" in metrics:
            longest = max(longest, metrics["vividly_gc_pause_max_seconds"])
        else:
            bounds = [g["slowest_le_s"] for g in gc_pauses({}, metrics).values()]
            longest = max([longest, *bounds])
        cpu = metrics.get("vividly_gc_pause_max_cpu_seconds")
        if cpu is not None:
            busiest = max(busiest or 0.0, cpu)
    return {
        "gc_max_ms": round(longest * 1000, 1),
        "gc_max_cpu_ms": None if busiest is None else round(busiest * 1000, 1),
    }


async def start_servers(
    url: str, processes: int, ports: list[int] | None = None, *, ready_within: float = 60
) -> list[Server]:
    """`processes` servers started together (each as its own process), ready."""
    wanted = ports or [0] * processes
    starting = [
        asyncio.to_thread(Server.start, url, port=port or None, ready_within=ready_within)
        for port in wanted
    ]
    started = await asyncio.gather(*starting, return_exceptions=True)
    servers = [server for server in started if isinstance(server, Server)]
    if len(servers) < len(started):
        for server in servers:
            server.stop()
        raise RuntimeError(f"{len(started) - len(servers)} of {len(started)} servers did not start")
    return servers


async def all_listening(ports: list[int]) -> float:
    """When every one of `ports` on the loopback accepted a TCP connection (probed together,
    each attempt cut short: a flooded accept queue must not hold the others' probes up)."""

    async def accepts(port: int) -> bool:
        try:
            async with asyncio.timeout(0.2):
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except (OSError, TimeoutError):
            return False
        writer.close()
        return True

    waiting = list(ports)
    while waiting:
        answers = await asyncio.gather(*(accepts(port) for port in waiting))
        waiting = [port for port, up in zip(waiting, answers, strict=True) if not up]
        if waiting:
            await asyncio.sleep(0.05)
    return time.monotonic()


async def stop_all(servers: list[Server], clients: ClientFleet | None) -> None:
    """Stop the load generator and every server, whatever fails on the way."""
    if clients is not None:
        with contextlib.suppress(OSError, RuntimeError):  # a child that died already
            await clients.close()
    await asyncio.gather(
        *(asyncio.to_thread(server.stop) for server in servers), return_exceptions=True
    )


async def warm_up(servers: list[Server]) -> None:
    """Imports, allocator and pool warmed with a few streams per server."""
    for server in servers:
        warm, _ = await scenarios.connect_fleet(server, 200)
        await scenarios.close_fleet(warm)
    await asyncio.sleep(1)


async def wait_delivered(clients: ClientFleet, expected: int, settle: float) -> None:
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        if sum(r["count"] for r in await clients.command("received")) >= expected:
            return
        await asyncio.sleep(0.25)


async def connect_cost(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """One server, `--streams` idle streams opened from one client process: the server's CPU
    per connect (user, system), memory per stream, and its longest collection pause."""
    (server,) = await start_servers(url, 1)
    clients: ClientFleet | None = None
    try:
        await warm_up([server])
        rss_before = server.rss_kib()
        user_before, system_before = cpu_split(server)
        users = [uuid.uuid4() for _ in range(args.streams)]
        clients = ClientFleet(users, [server.port] * args.streams, per_process=args.streams)
        connect_s = await clients.connect()
        user_after, system_after = cpu_split(server)
        await asyncio.sleep(2)
        user_us = (user_after - user_before) / args.streams * 1e6
        system_us = (system_after - system_before) / args.streams * 1e6
        return {
            "streams": args.streams,
            "connect_s": round(connect_s, 2),
            "connect_cpu_us_per_stream": round(user_us + system_us),
            "user_us": round(user_us),
            "system_us": round(system_us),
            "kib_per_stream": round((server.rss_kib() - rss_before) / args.streams, 2),
            **await gc_maxima([server]),
        }
    finally:
        await stop_all([server], clients)


async def fleet_run(url: str, processes: int, args: argparse.Namespace) -> dict[str, Any]:
    """One fleet of `processes` servers; see the module docstring."""
    servers = await start_servers(url, processes)
    clients: ClientFleet | None = None
    try:
        await warm_up(servers)
        rss_before = [server.rss_kib() for server in servers]
        cpu_before = sum(cpu_seconds(server) for server in servers)
        users = [uuid.uuid4() for _ in range(args.streams)]
        ports = [servers[i % processes].port for i in range(args.streams)]
        clients = ClientFleet(users, ports)
        connect_s = await clients.connect()
        connect_cpu = sum(cpu_seconds(server) for server in servers) - cpu_before
        await asyncio.sleep(2)
        rss_after = [server.rss_kib() for server in servers]
        count = int(args.rate * args.seconds)
        requests = await scenarios.make_requests(url, users, count)
        postgres_before = await postgres_cpu_by_role(url)
        servers_before = sum(cpu_seconds(server) for server in servers)
        clients_before = clients_cpu(clients)
        scraped_before = await asyncio.gather(*(server.metrics() for server in servers))
        commit_ms: list[float] = []
        started = time.monotonic()
        issued = await scenarios.drive_open_loop(url, requests, args.rate, commit_ms=commit_ms)
        wall = time.monotonic() - started
        postgres_after = await postgres_cpu_by_role(url)
        postgres_roles = {  # a process that ended moved its CPU to `exited`: every role counts
            role: postgres_after.get(role, 0.0) - postgres_before.get(role, 0.0)
            for role in sorted(postgres_before.keys() | postgres_after.keys())
        }
        postgres_cpu = sum(postgres_roles.values())
        servers_cpu = sum(cpu_seconds(server) for server in servers) - servers_before
        load_cpu = clients_cpu(clients) - clients_before
        await wait_delivered(clients, len(issued), settle=10)
        scraped_after = await asyncio.gather(*(server.metrics() for server in servers))
        records = await clients.records()
        delivery = await scenarios.collect(Recorded(users, records), requests, issued, settle=0)
        summary = {
            "processes": processes,
            "streams": args.streams,
            "connected": args.streams,  # connect() raises unless every stream connected
            "rate": args.rate,
            "achieved_rate": round(len(issued) / wall, 1),
            "lost": delivery["lost"],
            "dups": delivery["duplicated"],
            "p50_ms": delivery["p50_ms"],
            "p99_ms": delivery["p99_ms"],
            "max_ms": delivery["max_ms"],
            "commit_p50_ms": round(scenarios.percentile(commit_ms, 0.50), 1),
            "commit_p99_ms": round(scenarios.percentile(commit_ms, 0.99), 1),
            "commit_max_ms": round(max(commit_ms), 1),
            "connect_s": round(connect_s, 1),
            "kib_per_stream": round(sum(rss_after) - sum(rss_before), 1) / args.streams,
            "connect_cpu_us_per_stream": round(connect_cpu / args.streams * 1e6),
            **await gc_maxima(servers),
            "postgres_cpu_s_per_1000": round(postgres_cpu / len(issued) * 1000, 3),
            "postgres_cpu_s_per_1000_by_role": {
                role: round(seconds / len(issued) * 1000, 3)
                for role, seconds in postgres_roles.items()
                if seconds
            },
            "servers_cpu_s_per_1000": round(servers_cpu / len(issued) * 1000, 3),
            "clients_cpu_s_per_1000": round(load_cpu / len(issued) * 1000, 3),
            # Where the delivery's time went, from the servers' own histograms (bucket bounds):
            # their listener hearing the NOTIFY to the event written, and the row's created_at
            # (the database's clock) to the event written.
            "servers_notify_to_write": latency_bounds(
                "vividly_notify_to_write_seconds", scraped_before, scraped_after
            ),
            "servers_commit_to_write": latency_bounds(
                "vividly_commit_to_write_seconds", scraped_before, scraped_after
            ),
        }
        summary["kib_per_stream"] = round(summary["kib_per_stream"], 2)
        return {**summary, "delivery": delivery}
    finally:
        await stop_all(servers, clients)


async def storm_run(url: str, processes: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every server restarted at once under `args.streams` reconnecting clients."""
    servers = await start_servers(url, processes)
    ports = [server.port for server in servers]
    clients: ClientFleet | None = None
    stop = asyncio.Event()
    writing: asyncio.Task[dict[uuid.UUID, tuple[uuid.UUID, float]]] | None = None
    try:
        users = [uuid.uuid4() for _ in range(args.streams)]
        clients = ClientFleet(
            users,
            [ports[i % processes] for i in range(args.streams)],
            reconnect=True,
            browser_like=args.browser_retry,
        )
        await clients.connect()
        writing = asyncio.create_task(writers.drive_background(url, users, args.storm_rate, stop))
        await asyncio.sleep(2)
        restart_at = time.monotonic()
        exits = await asyncio.gather(*(asyncio.to_thread(server.stop) for server in servers))
        # Ready = every port accepts TCP (the app is up: uvicorn binds after start-up). Not
        # /healthz: under the clients' reconnects its answer comes late, and the clients do
        # not wait for it either. The start takes longer under them: more time to be ready.
        listening = asyncio.create_task(all_listening(ports))
        servers = await start_servers(url, processes, ports, ready_within=240)
        ready_at = await listening
        async with asyncio.timeout(180):
            while await clients.connected_since(restart_at) < args.streams:
                await asyncio.sleep(0.25)
        replies = await clients.command("count", since=restart_at)
        reconnected_at = max(reply["last_at"] for reply in replies)
        await asyncio.sleep(3)
        stop.set()
        committed = await writing
        await asyncio.sleep(3)
        records = await clients.records()
        delivery = observe.delivery_of(Recorded(users, records), committed)
        caught_up = reconnected_at
        for request_id, (user, commit_at) in committed.items():
            arrival = delivery["firsts"][user].get(str(request_id))
            if arrival is not None and commit_at < ready_at:
                caught_up = max(caught_up, arrival)  # missed during the restart, replayed after
        summary = {
            "processes": processes,
            "clients": args.streams,
            "clients_retry": "server retry: + up to 50 %" if args.browser_retry else "0.25-0.75 s",
            "completions_per_s_during": args.storm_rate,
            "committed": len(committed),
            "servers_exit_s": round(max(exits), 2),
            "down_to_listening_s": round(ready_at - restart_at, 2),
            "reconnected_after_listening_s": round(reconnected_at - ready_at, 2),
            "caught_up_after_listening_s": round(caught_up - ready_at, 2),
            "lost": delivery["lost"],
            "dups": delivery["duplicated"],
            **await gc_maxima(servers),
        }
        return {**summary, "missing": delivery["missing"]}
    finally:
        stop.set()
        if writing is not None and not writing.done():
            await writing
        await stop_all(servers, clients)
