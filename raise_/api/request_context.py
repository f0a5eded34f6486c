"""Moved to :mod:`raise_.governance.request_context` (the audit log is what reads it; governance
must not import the API layer above it). Kept so old imports keep working."""

from __future__ import annotations

from raise_.governance.request_context import REQUEST, RequestContext, current_request, serving

__all__ = ["REQUEST", "RequestContext", "current_request", "serving"]
