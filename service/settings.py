"""The settings of one process: every package's settings, read from the environment together.

Each package keeps its own settings class beside its code (`runtime`, `live`, `notifications`,
`http`, `ops`, `requests`, and each delivery channel's), and its modules take that class; this
one composes them, so environment names are flat (`SMTP_HOST`, `MAX_STREAMS`, ...) and one
object is passed to every factory. Nothing reads a global, and nothing below the application's
root imports this module.
"""

from __future__ import annotations

from .channels.email.settings import EmailSettings
from .channels.push.settings import PushSettings
from .ops.settings import OpsSettings
from .requests.settings import WorkerSettings


class Settings(EmailSettings, PushSettings, WorkerSettings, OpsSettings):
    """Configuration of one process. Every field maps to an upper-case environment variable."""
