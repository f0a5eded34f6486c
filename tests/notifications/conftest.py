"""Fixtures of the notification tests: one SMTP server for the session, a catalog per backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notification_receivers import Mailbox, SmtpServer, smtp_server

from raise_.metadata.database import CatalogDatabase


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbox(smtp: SmtpServer) -> Mailbox:
    smtp.mailbox.clear()
    return smtp.mailbox


@pytest.fixture
def db(catalog_url: str) -> Iterator[CatalogDatabase]:
    """A migrated, empty catalog on each backend."""
    database = CatalogDatabase(catalog_url)
    database.migrate()
    yield database
    database.dispose()
