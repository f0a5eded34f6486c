"""Who is calling: ``RAISE_USER`` in the embedded engine, else the OS user.

The server extension substitutes the Jupyter user; the governance issue adds organizations
(``alice@acme``) and group principals on top of this single entry point.
"""

from __future__ import annotations

import getpass
import os

__all__ = ["current_user"]


def current_user() -> str:
    user = os.environ.get("RAISE_USER", "").strip()
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "unknown"
