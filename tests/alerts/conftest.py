"""Alert tests run on both catalogs and both doors (in-process and through the session's Jupyter
server), with the server's notification channels pointed at real receivers on loopback: an
``aiosmtpd`` SMTP server (one per session) and ``pytest-httpserver`` for Slack and the webhook."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from alert_config import WEBHOOK_SECRET

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "notifications"))
from notification_receivers import Mailbox, SmtpServer, smtp_server


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbox(smtp: SmtpServer) -> Mailbox:
    smtp.mailbox.clear()
    return smtp.mailbox


@pytest.fixture
def channels_config(fresh_store: Path, smtp: SmtpServer, httpserver: object) -> Path:
    """The server's notifications.yaml in the store's home, written before the store opens."""
    fresh_store.mkdir(parents=True, exist_ok=True)
    path = fresh_store / "notifications.yaml"
    url = httpserver.url_for("/")  # type: ignore[attr-defined]
    path.write_text(
        yaml.safe_dump(
            {
                "email": {"host": smtp.host, "port": smtp.port, "sender": "Raise <raise@acme.com>", "timeout": 5},
                "slack": {"webhook_url": url + "slack/T000/B000/XXXX"},
                "webhook": {"url": url + "hook", "secret": WEBHOOK_SECRET},
                "retry": {"attempts": 2, "backoff_seconds": 0.01},
            }
        )
    )
    return path


@pytest.fixture
def store_env(channels_config: Path, store_on_both_backends: Path) -> Path:
    return store_on_both_backends
