"""Naming a feature group or feature from a magic: relative to the notebook's project, or a longer path."""

from __future__ import annotations

from raise_.client.group import FeatureGroup
from raise_.client.store import FeatureStore
from raise_.errors import InvalidArgumentError

__all__ = ["resolve_group", "split_feature_target"]


def resolve_group(store: FeatureStore, name: str) -> FeatureGroup:
    """``group``, ``project/group``, ``domain/project/group`` or ``org/domain/project/group``.

    The missing levels come from ``store``'s project. Nothing is created: an unknown level raises the
    SDK's coded not-found error.
    """
    parts = name.split("/")
    if len(parts) == 1:
        return store.feature_group(name)
    if len(parts) > 4 or not all(parts):
        raise InvalidArgumentError(
            f"{name!r} is not a feature group: write 'group' or '[[org/]domain/]project/group'.", {"group": name}
        )
    context = [store.org, store.domain_name, store.project_name]
    path = "/".join(context[: 4 - len(parts)] + parts)
    # One lookup by path, as fs.feature(path) does, rather than a walk down organization → domain →
    # project: a group another organization shares through a grant is readable while its
    # organization, domain and project are not.
    return FeatureGroup(store._backend, store._backend.get_feature_group(path))


def split_feature_target(target: str) -> tuple[str, str]:
    """``"user-signals/ctr"`` → ``("user-signals", "ctr")``; the group part may be a longer path."""
    group, sep, feature = target.rpartition("/")
    if not sep or not group or not feature:
        raise InvalidArgumentError(
            f"{target!r} does not name a feature: write GROUP/FEATURE, e.g. user-signals/ctr.", {"target": target}
        )
    return group, feature
