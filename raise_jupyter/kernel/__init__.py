"""The kernel side of Raise: the ``%raise`` / ``%%raise`` magics (``%load_ext raise_jupyter``)."""

from __future__ import annotations

from typing import Any

from raise_jupyter.kernel.magics import RaiseMagics

__all__ = ["RaiseMagics", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics in ``ipython`` (what ``%load_ext raise_jupyter`` runs)."""
    ipython.register_magics(RaiseMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics again (``%unload_ext raise_jupyter``)."""
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("raise", None)
    manager.registry.pop(RaiseMagics.__name__, None)
