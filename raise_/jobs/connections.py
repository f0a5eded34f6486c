"""The databases a job may read, by name (``DatabaseSource(connection="warehouse")``).

URLs hold passwords, so they live with the server, never in a job: the file named by
``RAISE_CONNECTIONS_CONFIG`` or ``$RAISE_HOME/connections.yaml``::

    connections:
      warehouse: postgresql+psycopg://reader@db.internal:5432/analytics

or an environment variable per connection, ``RAISE_CONNECTION_WAREHOUSE=postgresql+psycopg://...``.
A URL is never logged, audited or returned: errors name the connection only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import yaml

from raise_.errors import ConnectionNotConfiguredError

__all__ = ["CONNECTIONS_ENV", "connection_url"]

CONNECTIONS_ENV: Final = "RAISE_CONNECTIONS_CONFIG"


def _config_path(home: Path) -> Path:
    configured = os.environ.get(CONNECTIONS_ENV, "").strip()
    return Path(configured) if configured else home / "connections.yaml"


def connection_url(name: str, home: Path) -> str:
    env = os.environ.get(f"RAISE_CONNECTION_{name.upper().replace('-', '_')}", "").strip()
    if env:
        return env
    path = _config_path(home)
    urls: dict[str, str] = {}
    if path.is_file():
        loaded = yaml.safe_load(path.read_text()) or {}
        section = loaded.get("connections", loaded) if isinstance(loaded, dict) else {}
        urls = {str(k): str(v) for k, v in (section or {}).items() if isinstance(v, str)}
    if name not in urls:
        known = ", ".join(sorted(urls)) or "none"
        raise ConnectionNotConfiguredError(
            f"No database connection {name!r} is configured where jobs run (known: {known}); add it to {path} "
            f"under 'connections:' or set RAISE_CONNECTION_{name.upper().replace('-', '_')}.",
            {"connection": name},
        )
    return urls[name]
