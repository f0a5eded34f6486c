"""What the access service returns and takes: ACLs, chains, principal groups and grants, as plain
records (no database objects), importable without the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from raise_.errors import InvalidArgumentError

__all__ = ["ACL", "ACLChainEntry", "EffectiveACLRecord", "ExternalGrant", "PrincipalGroup", "principals_of"]


@dataclass(frozen=True)
class ACL:
    """Who may read, write and administer a resource. ``inherit=False`` stops the parent's ACL."""

    readers: list[str] = field(default_factory=list)
    writers: list[str] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)
    inherit: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"readers": self.readers, "writers": self.writers, "admins": self.admins, "inherit": self.inherit}

    @classmethod
    def from_value(cls, value: Any) -> ACL:
        if isinstance(value, ACL):
            return value
        if not isinstance(value, dict):
            raise InvalidArgumentError(
                f"An ACL is ACL(readers=[...], writers=[...], admins=[...], inherit=True), not {type(value).__name__}.",
                {"acl": repr(value)},
            )
        unknown = set(value) - {"readers", "writers", "admins", "inherit"}
        if unknown:
            raise InvalidArgumentError(
                f"Unknown ACL field(s) {sorted(unknown)}; use readers, writers, admins and inherit.",
                {"fields": sorted(unknown)},
            )
        lists = {k: principals_of(value.get(k), k) for k in ("readers", "writers", "admins")}
        inherit = value.get("inherit", True)
        if not isinstance(inherit, bool):
            raise InvalidArgumentError(f"inherit must be True or False, not {inherit!r}.", {"inherit": repr(inherit)})
        return cls(**lists, inherit=inherit)


def principals_of(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise InvalidArgumentError(
            f"{what} must be a list of principals such as ['alice@acme', 'ml-team@acme'], not {value!r}.",
            {what: repr(value)},
        )
    out: list[str] = []
    for p in value:
        if not isinstance(p, str) or not p.strip() or any(c.isspace() for c in p.strip()):
            raise InvalidArgumentError(
                f"{what}: {p!r} is not a principal; write a user or group as 'name@org' (or '*@org' for everyone).",
                {what: repr(p)},
            )
        if p.strip() not in out:
            out.append(p.strip())
    return out


@dataclass(frozen=True)
class ACLChainEntry:
    """One level of a resource's chain, from the resource itself up to its organization."""

    kind: str
    path: str
    acl: ACL | None  # the ACL set on this level, if any
    created_by: str | None  # an admin of this level
    applies: bool  # False once an ACL below it has inherit=False


@dataclass(frozen=True)
class EffectiveACLRecord:
    """The ACL that decides access to a resource: its own merged with its parents' (PRD §8.3),
    including the creators of each level as admins. ``restricted=False``: no ACL applies, so
    only those creators have access (deny by default, PRD §8.4)."""

    readers: list[str]
    writers: list[str]
    admins: list[str]
    restricted: bool

    def to_dict(self) -> dict[str, Any]:
        return {"readers": self.readers, "writers": self.writers, "admins": self.admins, "restricted": self.restricted}


@dataclass(frozen=True)
class PrincipalGroup:
    org: str
    name: str
    members: list[str]
    description: str | None

    @property
    def principal(self) -> str:
        return f"{self.name}@{self.org}"


@dataclass(frozen=True)
class ExternalGrant:
    org: str  # the organization given access
    group: str  # path of the shared group
    features: list[str]  # ["*"] for all
    permission: str
    granted_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        now = datetime.now(UTC)
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
