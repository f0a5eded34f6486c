"""Parsing the paths users type: ``acme/mlplatform/recommendation``, ``user-signals/clicks@v2``.

A feature path is resolved against the store's context (org, domain, project). From the right:
``feature[@version]``, then ``group``, ``project``, ``domain``, ``org``, so ``group/feature``,
``project/group/feature`` ... up to the full five-part path all work. The expression form
``group.feature`` (README *Path Resolution*) is accepted too.
"""

from __future__ import annotations

from dataclasses import dataclass

from raise_.errors import InvalidArgumentError
from raise_.metadata.naming import (
    parse_version,
    validate_feature_name,
    validate_namespace_name,
)

__all__ = [
    "FeaturePath",
    "ProjectPath",
    "parse_feature_path",
    "parse_project_path",
    "resolve_group_path",
    "split_version",
]


@dataclass(frozen=True)
class ProjectPath:
    org: str
    domain: str
    project: str

    def __str__(self) -> str:
        return f"{self.org}/{self.domain}/{self.project}"


@dataclass(frozen=True)
class FeaturePath:
    org: str
    domain: str
    project: str
    group: str
    feature: str
    version: str | None

    @property
    def group_path(self) -> str:
        return f"{self.org}/{self.domain}/{self.project}/{self.group}"


def parse_project_path(path: object) -> ProjectPath:
    if not isinstance(path, str) or path.count("/") != 2:
        raise InvalidArgumentError(
            f"Invalid store path {path!r}: write 'org/domain/project', e.g. 'acme/mlplatform/recommendation'.",
            {"path": repr(path)},
        )
    org, domain, project = path.split("/")
    return ProjectPath(
        validate_namespace_name("organization", org),
        validate_namespace_name("domain", domain),
        validate_namespace_name("project", project),
    )


def split_version(name: str) -> tuple[str, str | None]:
    """``'clicks@v2'`` → ``('clicks', 'v2')``; the version is validated, the name is not."""
    if "@" not in name:
        return name, None
    base, _, version = name.partition("@")
    parse_version(version)
    return base, version


def parse_feature_path(path: object, context: ProjectPath) -> FeaturePath:
    if not isinstance(path, str) or not path:
        raise InvalidArgumentError(
            f"Invalid feature path {path!r}: write 'group/feature', optionally with '@v2'.",
            {"path": repr(path)},
        )
    if path.startswith("@"):  # "@org/domain/project/group.feature": the cross-org spelling of a full path
        path = path[1:]
    parts = path.split("/")
    if len(parts) <= 4 and "." in parts[-1]:  # "group.feature" after any namespace parts (names hold no dots)
        parts = [*parts[:-1], *parts[-1].rsplit(".", 1)]
    if not 2 <= len(parts) <= 5:
        raise InvalidArgumentError(
            f"Invalid feature path {path!r}: write 'group/feature[@vN]' (or prefix it with project, domain and org).",
            {"path": path},
        )
    feature, version = split_version(parts[-1])
    validate_feature_name(feature)
    ctx = [context.org, context.domain, context.project]
    # parts[:-1] are the namespace parts, aligned to the right of (org, domain, project, group).
    ns = ctx[: 4 - (len(parts) - 1)] + parts[:-1]
    kinds = ("organization", "domain", "project", "feature group")
    for kind, name in zip(kinds, ns, strict=True):
        validate_namespace_name(kind, name)
    return FeaturePath(ns[0], ns[1], ns[2], ns[3], feature, version)


def resolve_group_path(name: object, context: ProjectPath) -> str:
    """``group``, ``project/group``, ``domain/project/group`` or ``org/domain/project/group`` → the
    group's full path; the missing levels come from ``context``. Names are checked where the
    group is looked up, so an unknown one raises the catalog's coded not-found error."""
    parts = name.split("/") if isinstance(name, str) else []
    if not 1 <= len(parts) <= 4 or not all(parts):
        raise InvalidArgumentError(
            f"{name!r} is not a feature group: write 'group' or '[[org/]domain/]project/group'.", {"group": repr(name)}
        )
    levels = [context.org, context.domain, context.project]
    return "/".join(levels[: 4 - len(parts)] + parts)
