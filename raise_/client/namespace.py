"""``Organization``, ``Domain`` and ``Project``: the levels above feature groups."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from raise_.catalog.records import DomainRecord, OrganizationRecord, ProjectRecord
from raise_.client.access import AccessControlled
from raise_.governance.records import PrincipalGroup

if TYPE_CHECKING:
    from raise_.client.audit import AuditLog
    from raise_.client.backend import Backend
    from raise_.client.group import FeatureGroup
    from raise_.models.audit import AuditConfig

__all__ = ["Domain", "Organization", "Project"]

_Rec = OrganizationRecord | DomainRecord | ProjectRecord


class _Level(AccessControlled):
    _record: Any

    def _acl_address(self) -> tuple[str, str | None, str | None]:
        return self.path, None, None

    def __init__(self, backend: Backend, record: Any) -> None:
        self._backend = backend
        self._record = record

    @property
    def id(self) -> str:
        return str(self._record.id)

    @property
    def name(self) -> str:
        return str(self._record.name)

    @property
    def path(self) -> str:
        return str(self._record.path)

    @property
    def description(self) -> str | None:
        return self._record.description  # type: ignore[no-any-return]

    @property
    def owner(self) -> str | None:
        return self._record.owner  # type: ignore[no-any-return]

    @property
    def tags(self) -> list[str]:
        return list(self._record.tags)

    @property
    def created_at(self) -> datetime:
        return self._record.created_at  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Level) and type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


class Organization(_Level):
    _record: OrganizationRecord

    @property
    def display_name(self) -> str | None:
        return self._record.display_name

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._record.settings)

    def create_domain(self, name: str, **kwargs: Any) -> Domain:
        return Domain(self._backend, self._backend.create_domain(self.name, name, **kwargs))

    def domain(self, name: str) -> Domain:
        return Domain(self._backend, self._backend.get_domain(self.name, name))

    def list_domains(self, tags: list[str] | None = None) -> list[Domain]:
        return [Domain(self._backend, r) for r in self._backend.list_domains(self.name, tags=tags)]

    # -- identities ----------------------------------------------------------------------------

    def set_group(self, name: str, members: list[str], description: str | None = None) -> PrincipalGroup:
        """Create or replace the group of identities ``name@<org>``, usable in any ACL."""
        return self._backend.set_principal_group(self.name, name, members, description)

    def list_groups(self) -> list[PrincipalGroup]:
        return self._backend.list_principal_groups(self.name)

    def delete_group(self, name: str) -> None:
        self._backend.delete_principal_group(self.name, name)

    def add_alias(self, alias: str) -> list[str]:
        """Identities written ``name@<alias>`` (``alice@acme.com``) belong to this organization."""
        return self._backend.add_org_alias(self.name, alias)

    def list_aliases(self) -> list[str]:
        return self._backend.list_org_aliases(self.name)

    # -- audit ---------------------------------------------------------------------------------

    @property
    def audit(self) -> AuditLog:
        """This organization's audit log (the same as ``fs.audit`` of a store in it)."""
        from raise_.client.audit import AuditLog

        return AuditLog(self._backend, self.name)

    def set_audit_config(
        self,
        retention_days: int | None = None,
        immutable: bool | None = None,
        export_destination: str | None = None,
        *,
        export_format: str | None = None,
    ) -> AuditConfig:
        """Audit retention (PRD §10.4): keep entries ``retention_days`` (default 365); ``immutable``
        never purges them and cannot be undone; purged entries are archived first to
        ``export_destination`` (a path or fsspec URL; ``""`` removes it). What is not given stays."""
        return self._backend.set_audit_config(
            self.name,
            retention_days=retention_days,
            immutable=immutable,
            export_destination=export_destination,
            export_format=export_format,
        )

    def get_audit_config(self) -> AuditConfig:
        return self._backend.get_audit_config(self.name)


class Domain(_Level):
    _record: DomainRecord

    @property
    def org(self) -> str:
        return self._record.org

    def create_project(self, name: str, **kwargs: Any) -> Project:
        return Project(self._backend, self._backend.create_project(self.org, self.name, name, **kwargs))

    def project(self, name: str) -> Project:
        return Project(self._backend, self._backend.get_project(self.org, self.name, name))

    def list_projects(self, tags: list[str] | None = None) -> list[Project]:
        return [Project(self._backend, r) for r in self._backend.list_projects(self.org, self.name, tags=tags)]


class Project(_Level):
    _record: ProjectRecord

    @property
    def org(self) -> str:
        return self._record.org

    @property
    def domain(self) -> str:
        return self._record.domain

    def feature_group(self, name: str) -> FeatureGroup:
        from raise_.client.group import FeatureGroup

        return FeatureGroup(self._backend, self._backend.get_feature_group(f"{self.path}/{name}"))

    def list_feature_groups(self, tags: list[str] | None = None) -> list[FeatureGroup]:
        from raise_.client.group import FeatureGroup

        return [FeatureGroup(self._backend, r) for r in self._backend.list_feature_groups(self.path, tags=tags)]
