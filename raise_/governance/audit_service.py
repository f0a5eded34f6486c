"""Audit queries, verification, export, streaming, alerts and retention (PRD §10): the service
methods behind ``fs.audit``. (Filled in by the audit work of issue 5.)"""

from __future__ import annotations

__all__ = ["AuditService"]


class AuditService:
    pass
