"""Plain data types of the public API that are not tied to one client object
(``from raise_.models.audit import AuditQuery``, as the README writes it)."""

from __future__ import annotations
