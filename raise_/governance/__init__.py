"""Identity, access control, cross-organization grants and audit."""

from __future__ import annotations

from raise_.governance.identity import current_user

__all__ = ["current_user"]
