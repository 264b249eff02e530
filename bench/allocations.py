"""Where an idle stream's memory goes: tracemalloc in the server, by allocating line.

    .venv/bin/python -m bench.allocations [STREAMS]

Starts `vividly-notify serve` with `bench/probe` on PYTHONPATH (tracemalloc on), warms it up
with 200 streams, snapshots, opens STREAMS idle streams (4,000 by default), snapshots again and
prints the bytes and objects per stream of the lines that grew most. Tracing slows the server
and adds its own memory: read the split, not the total RSS (bench/RESULTS.md, session 3).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import tracemalloc
from pathlib import Path

from . import scenarios
from .harness import Server, fresh_database, raise_fd_limit

PROBE = Path(__file__).resolve().parent / "probe"


async def measure(url: str, streams: int, target: str) -> None:
    server = Server.start(url, env={"PYTHONPATH": str(PROBE), "ALLOCATION_PROBE": target})
    try:
        warm, _seconds = await scenarios.connect_fleet(server, 200)
        await asyncio.sleep(2)
        await scenarios.close_fleet(warm)
        await asyncio.sleep(3)
        os.kill(server.process.pid, signal.SIGUSR2)
        await asyncio.sleep(8)
        fleet, _seconds = await scenarios.connect_fleet(server, streams)
        await asyncio.sleep(5)
        os.kill(server.process.pid, signal.SIGUSR2)
        await asyncio.sleep(15)
        await scenarios.close_fleet(fleet)
    finally:
        server.stop()


def report(target: str, streams: int, lines: int = 25) -> None:
    before = tracemalloc.Snapshot.load(f"{target}-1.pickle")
    after = tracemalloc.Snapshot.load(f"{target}-2.pickle")
    growth = after.compare_to(before, "lineno")
    print(f"bytes per stream, all lines: {sum(s.size_diff for s in growth) / streams:,.0f}")
    for stat in growth[:lines]:
        where = stat.traceback[0]
        name = where.filename.split("site-packages/")[-1]
        per_stream = stat.size_diff / streams
        print(
            f"{per_stream:8.0f} B {stat.count_diff / streams:6.2f} objects  {name}:{where.lineno}"
        )


def main() -> None:
    streams = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    raise_fd_limit()
    url = fresh_database()
    with tempfile.TemporaryDirectory() as directory:
        target = str(Path(directory) / "snapshot")
        asyncio.run(measure(url, streams, target))
        report(target, streams)


if __name__ == "__main__":
    main()
