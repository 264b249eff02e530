"""Request dependencies, as `Annotated` aliases for route signatures."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from .settings import Settings


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.state.pool
    return pool


def _settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
AppSettings = Annotated[Settings, Depends(_settings)]
