"""`GET /metrics` of a worker process, on WORKER_METRICS_PORT (bound to HOST): its pool's
saturation, the jobs it finished, its garbage-collection pauses and its process figures (RSS,
CPU, open files). With METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>` (401
otherwise), as on the API. Anything but `GET /metrics` is a 404.

A plain asyncio server, not uvicorn: uvicorn's `serve` takes over SIGTERM, which the worker
needs for its own graceful stop. One request per connection; a request head not complete
within HEAD_TIMEOUT seconds, or larger than the stream reader's 64 KiB line limit, is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from pydantic import SecretStr

from ..http import ops_access
from ..ops.pool_metrics import PoolCollector
from ..runtime.pauses import GcCollector
from .runner import Worker

logger = logging.getLogger(__name__)

HEAD_TIMEOUT = 5.0
MAX_HEADERS = 100


class _WorkerCollector(Collector):
    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "vividly_worker_jobs_finished",
            "Content requests this worker process ended (completed, failed or asking back).",
            value=self._worker.processed,
        )


def worker_registry(worker: Worker, pool: asyncpg.Pool) -> CollectorRegistry:
    """The metrics of one worker process."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_WorkerCollector(worker))
    registry.register(PoolCollector(pool, "worker"))
    registry.register(GcCollector())
    ProcessCollector(registry=registry)
    return registry


def _response(status: str, body: bytes, content_type: str, *extra: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}"]
    head += [f"Content-Length: {len(body)}", "Connection: close", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _answer(
    reader: asyncio.StreamReader, registry: CollectorRegistry, token: SecretStr | None
) -> bytes | None:
    async with asyncio.timeout(HEAD_TIMEOUT):
        request_line = (await reader.readline()).decode("latin-1")
        method, _, rest = request_line.partition(" ")
        path = rest.partition(" ")[0]
        authorization = None
        for _ in range(MAX_HEADERS):
            line = (await reader.readline()).decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            if name.strip().lower() == "authorization":
                authorization = value.strip()
        else:
            return None
    if method != "GET" or path.split("?")[0] != "/metrics":
        return _response("404 Not Found", b"not found\n", "text/plain")
    if not ops_access.allowed(authorization, token):
        body = b'{"detail": "metrics need \'Authorization: Bearer <METRICS_TOKEN>\'"}'
        return _response("401 Unauthorized", body, "application/json", "WWW-Authenticate: Bearer")
    return _response("200 OK", generate_latest(registry), CONTENT_TYPE_LATEST)


async def serve_metrics(
    registry: CollectorRegistry, host: str, port: int, token: SecretStr | None
) -> asyncio.Server:
    """Serve `registry` at `GET /metrics` on host:port until the returned server is closed."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            answer = await _answer(reader, registry, token)
            if answer is not None:
                writer.write(answer)
                await writer.drain()
        except (TimeoutError, ValueError, ConnectionError):
            pass  # a slow, oversized or vanished client: just close
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, host, port)
    logger.info("worker metrics on http://%s:%d/metrics", host, port)
    return server
