"""Embedded Postgres (pgserver): a real PostgreSQL 16 shipped inside a Python wheel.

Used when no DATABASE_URL is configured. The data directory survives restarts; the server is
stopped when the last process that started it exits. It listens on a Unix socket only.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); pgserver copes.
    warnings.simplefilter("ignore")
    import pgserver

logger = logging.getLogger(__name__)
logging.getLogger("pgserver").setLevel(logging.WARNING)


def start_embedded_postgres(data_dir: Path, *, delete_on_exit: bool = False) -> str:
    """Start (or attach to) the embedded server in `data_dir`; return its connection URL."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    cleanup_mode = "delete" if delete_on_exit else "stop"
    server = pgserver.get_server(data_dir, cleanup_mode=cleanup_mode)  # type: ignore[attr-defined]
    url: str = server.get_uri()
    logger.info("embedded postgres at %s (data in %s)", url, data_dir)
    return url


def bundled_program(name: str) -> Path:
    """A PostgreSQL 16 program shipped in pgserver's wheel (`pg_dump`, `psql`, ...)."""
    return Path(pgserver.__file__).parent / "pginstall" / "bin" / name
