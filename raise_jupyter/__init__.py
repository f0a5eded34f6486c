"""Jupyter integration for Raise.

The Jupyter Server extension (:mod:`raise_jupyter.server_ext`) owns the store of a server and
serves it over REST under ``{base_url}raise/v1``; installing the package enables it
(``jupyter-config/server-config/raise_jupyter.json``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["__version__", "_jupyter_server_extension_points", "_load_jupyter_server_extension"]

try:
    __version__ = version("raise-featurestore")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from raise_jupyter.server_ext import RaiseExtension

    return [{"module": "raise_jupyter", "app": RaiseExtension}]


def _load_jupyter_server_extension(serverapp: Any) -> Any:
    """Load the extension into ``serverapp`` (the ``app`` of the extension point does the work)."""
    from raise_jupyter.server_ext import RaiseExtension

    return RaiseExtension._load_jupyter_server_extension(serverapp)  # type: ignore[no-untyped-call]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext raise_jupyter``: the ``%raise`` / ``%%raise`` magics (:mod:`raise_jupyter.kernel`)."""
    from raise_jupyter.kernel import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext raise_jupyter``: remove the magics again."""
    from raise_jupyter.kernel import unload_ipython_extension as unload

    unload(ipython)
