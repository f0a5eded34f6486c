"""The REST API of a Raise server: one route table (:mod:`raise_.api.routes`) from which the
server's router and the remote client are both generated, the codec of values on the wire
(:mod:`raise_.codec`) and the framework-free request handling both ends share
(:mod:`raise_.api.calls`). Nothing here imports Jupyter: ``raise_`` runs without it.
"""

from __future__ import annotations

from raise_.api.routes import API_PREFIX, ROUTES, Route, Router

__all__ = ["API_PREFIX", "ROUTES", "Route", "Router"]
