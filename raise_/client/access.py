"""ACL methods shared by every level of the catalog (README *Access Control*): organizations,
domains, projects, feature groups and features all have ``set_acl``, ``get_acl``,
``get_effective_acl`` and ``get_acl_chain``; the service checks and records them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raise_.governance.records import ACL, ACLChainEntry, EffectiveACLRecord

if TYPE_CHECKING:
    from raise_.client.backend import Backend

__all__ = ["AccessControlled"]


class AccessControlled:
    _backend: Backend

    def _acl_address(self) -> tuple[str, str | None, str | None]:
        """(namespace path, feature name, version): what the service's ACL methods take."""
        raise NotImplementedError

    def set_acl(self, acl: ACL | dict[str, Any]) -> ACL:
        """Replace this resource's own ACL (needs admin). ``inherit=False`` stops its parents' ACLs."""
        path, feature, version = self._acl_address()
        return self._backend.set_acl(path, acl, feature, version)

    def get_acl(self) -> ACL | None:
        """The ACL set on this resource itself, if any."""
        return self._backend.get_acl(*self._acl_address())

    def get_effective_acl(self) -> EffectiveACLRecord:
        """The ACL that decides access here: this resource's merged with its parents' (PRD §8.3)."""
        return self._backend.get_effective_acl(*self._acl_address())

    def get_acl_chain(self) -> list[ACLChainEntry]:
        """Each level from this resource up to its organization, with the ACL set there."""
        return self._backend.get_acl_chain(*self._acl_address())
