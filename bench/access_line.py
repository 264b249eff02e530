"""What one access line costs: the line every stream's connect writes at the default LOG_LEVEL.

    .venv/bin/python -m bench.access_line [LINES]

uvicorn's access record for a stream, through the handler `service.runtime.logs.configure`
installs (the request context, JSON, redaction), written to /dev/null; µs per line, best of 5
rounds. Another checkout's code: run it from that checkout's directory with
`python -c "import runpy; runpy.run_path('<this file>', run_name='__main__')"`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid

from service.runtime import logs


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    logs.configure("info")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (held for the process)
    access = logging.getLogger("uvicorn.access")
    logs.start_request([(b"host", b"example")])
    logs.bind_user(uuid.uuid4())
    args = ("127.0.0.1:50000", "GET", "/api/v1/notifications/stream", "1.1", 200)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(lines):
            access.info('%s - "%s %s HTTP/%s" %d', *args)
        rounds.append((time.perf_counter() - started) / lines * 1e6)
    print(
        {
            "lines": lines,
            "us_per_line": round(min(rounds), 1),
            "rounds": [round(r, 1) for r in rounds],
        }
    )


if __name__ == "__main__":
    main()
