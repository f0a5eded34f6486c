"""Naming a feature group or feature from a magic: relative to the notebook's project, or a longer path."""

from __future__ import annotations

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


def _group_path(store: FeatureStore, name: str) -> str:
    parts = name.split("/")
    if len(parts) > 4 or not all(parts):
        raise InvalidArgumentError(
            f"{name!r} is not a feature group: write 'group' or '[[org/]domain/]project/group'.", {"group": name}
        )
    context = [store.org, store.domain_name, store.project_name]
    return "/".join(context[: 4 - len(parts)] + parts)


def resolve_group(store: FeatureStore, name: str) -> FeatureGroup:
    """``group``, ``project/group``, ``domain/project/group`` or ``org/domain/project/group``.

    The missing levels come from ``store``'s project. Nothing is created: an unknown level raises the
    SDK's coded not-found error.
    """
    path = _group_path(store, name)
    if "/" not in name:
        return store.feature_group(name)
    # One lookup by path, as fs.feature(path) does, rather than a walk down organization → domain →
    # project: a group another organization shares through a grant is readable while its
    # organization, domain and project are not.
    return FeatureGroup(store._backend, store._backend.get_feature_group(path))


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
    org, domain, project, group = _group_path(store, name).split("/")
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
