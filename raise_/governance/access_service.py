"""ACLs, principal groups, organization aliases and cross-organization grants (PRD §8–§9): the
service methods behind ``set_acl``, ``get_effective_acl``, ``grant_external_access``, ..."""

from __future__ import annotations

__all__ = ["AccessService"]


class AccessService:
    pass
