"""Coded errors of the runs core (PRD §20.4 style: a code, a message, details)."""

from __future__ import annotations

from raise_.errors import RaiseError

__all__ = ["RunNotFoundError", "RunStateError", "UnknownRunKindError"]


class RunNotFoundError(RaiseError):
    code = "RUN_NOT_FOUND"
    http_status = 404


class RunStateError(RaiseError):
    code = "RUN_STATE_CONFLICT"
    http_status = 409


class UnknownRunKindError(RaiseError):
    code = "UNKNOWN_RUN_KIND"
    http_status = 400
