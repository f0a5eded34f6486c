"""The Jupyter Server extension that hosts a Raise store (DESIGN §2): see :mod:`.app`."""

from __future__ import annotations

from raise_jupyter.server_ext.app import RaiseExtension

__all__ = ["RaiseExtension"]
