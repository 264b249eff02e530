"""Fixtures of the email digest tests: a server whose digest goes to the module's SMTP server."""

from __future__ import annotations

import pytest

from service.settings import Settings
from tests.support.digest import (
    digest_settings,
)
from tests.support.mailbox import Mailbox


@pytest.fixture(scope="module")
def server_settings(database_url: str, module_mailbox: Mailbox) -> Settings:
    return digest_settings(database_url, module_mailbox)
