"""Naming a feature group or feature from a magic: relative to the notebook's project, or a longer path."""

from __future__ import annotations

from raise_.catalog.paths import parse_project_path, resolve_group_path
from raise_.client.group import FeatureGroup
from raise_.client.store import FeatureStore
from raise_.errors import (
    DomainNotFoundError,
    FeatureGroupExistsError,
    FeatureGroupNotFoundError,
    InvalidArgumentError,
    OrganizationNotFoundError,
    ProjectNotFoundError,
)

__all__ = ["resolve_group", "resolve_or_create_group", "split_feature_target"]

#: What a lookup of a group raises when the group, or a level above it, does not exist.
_MISSING = (OrganizationNotFoundError, DomainNotFoundError, ProjectNotFoundError, FeatureGroupNotFoundError)


def resolve_group(store: FeatureStore, name: str) -> FeatureGroup:
    """``group``, ``project/group``, ``domain/project/group`` or ``org/domain/project/group``
    (``store.feature_group``): the missing levels come from ``store``'s project. Nothing is
    created: an unknown level raises the SDK's coded not-found error."""
    return store.feature_group(name)


def resolve_or_create_group(store: FeatureStore, name: str) -> tuple[FeatureGroup, bool]:
    """The group ``name`` names (as :func:`resolve_group`), created when it does not exist; and
    whether it was created here.

    As ``FeatureStore(path)`` creates the levels of its project, the levels above the group are
    created too (``store.with_context``). The group is made as ``fs.create_feature_group(name)``
    makes it: no entity keys or event time, which its first write fixes. Refusals (permissions,
    invalid names) are the SDK's coded errors.
    """
    try:
        return resolve_group(store, name), False
    except _MISSING:
        pass
    org, domain, project, group = resolve_group_path(name, parse_project_path(store.path)).split("/")
    same_project = (org, domain, project) == (store.org, store.domain_name, store.project_name)
    target = store if same_project else store.with_context(org, domain, project)
    try:
        return target.create_feature_group(group), True
    except FeatureGroupExistsError:  # another notebook created it since the lookup
        return resolve_group(store, name), False


def split_feature_target(target: str) -> tuple[str, str]:
    """``"user-signals/ctr"`` → ``("user-signals", "ctr")``; the group part may be a longer path."""
    group, sep, feature = target.rpartition("/")
    if not sep or not group or not feature:
        raise InvalidArgumentError(
            f"{target!r} does not name a feature: write GROUP/FEATURE, e.g. user-signals/ctr.", {"target": target}
        )
    return group, feature
