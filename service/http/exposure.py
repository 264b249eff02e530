"""What a server may do given where it listens, and where its signing secret comes from.

- The development login (anyone becomes any user) is only served on a loopback address: unset
  DEV_LOGIN turns it on for the embedded database on loopback; `DEV_LOGIN=true` on any other
  address refuses to start; `DEV_LOGIN=force` serves it anywhere, with a warning in the log.
- No secret is published: with JWT_SECRET unset, the embedded database's data directory gets a
  random one on first run (`SECRET_FILE`, readable by its owner only) and keeps it, so tokens
  survive restarts. An external database needs JWT_SECRET (for HS256); weak ones are refused by
  `HttpSettings` everywhere.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from .settings import HttpSettings, check_secret

logger = logging.getLogger(__name__)

SECRET_FILE = "vividly-jwt-secret"


class Refused(Exception):
    """A configuration that must not start (the text says what to change)."""


def is_loopback(host: str) -> bool:
    """Whether binding `host` accepts connections from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def dev_login_on(settings: HttpSettings, host: str, *, embedded: bool) -> bool:
    """Whether to serve the development login when bound to `host` (Refused if it must not)."""
    wanted = settings.dev_login
    if wanted == "force":
        if not is_loopback(host):
            logger.warning(
                "DEV_LOGIN=force: the development login is served on %s; anyone who reaches "
                "this port can act as any user",
                host,
            )
        return True
    if wanted is None:
        return embedded and is_loopback(host)
    if wanted and not is_loopback(host):
        raise Refused(
            f"DEV_LOGIN=true is only allowed on a loopback address, not {host}: anyone who "
            "reaches the port could act as any user (DEV_LOGIN=force overrides this)"
        )
    return wanted


def data_dir_secret(data_dir: Path, *, create: bool) -> SecretStr | None:
    """The secret kept in `data_dir`; created on first use when `create`, else None if absent."""
    path = data_dir / SECRET_FILE
    if create and not path.exists():
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process of this data directory made it first
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
            logger.info("generated a JWT secret for this data directory in %s", path)
    try:
        value = path.read_text().strip()
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:  # a directory, unreadable, not text
        reason = error.strerror if isinstance(error, OSError) else "not text"
        raise Refused(
            f"{path}: cannot read the JWT secret ({reason}); it must be a file readable by this "
            "user (delete it to generate a new one)"
        ) from error
    if mode & 0o077:
        logger.warning(
            "%s (the JWT secret) can be read by other users (mode %o): chmod 600 it",
            path,
            mode & 0o777,
        )
    try:
        return SecretStr(check_secret(value))
    except ValueError as error:
        raise Refused(f"{path}: {error}; delete the file to generate a new one") from error
