"""Where a job writes (PRD §15.6): a feature group, which output column feeds which feature, and
how rows meet the rows already there.

``features={"clicks": "daily_clicks"}`` maps output columns to features (the README's direction:
column → feature); without a mapping every output column that is not a key feeds the feature of
its name. ``key_columns`` identify a row: the group's entity keys, plus at most one time column
that becomes the group's event time (``date`` in a daily aggregate). ``create_features=True``
creates a missing target feature from the output's type; otherwise a missing one is an error
before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from raise_.errors import InvalidJobError

__all__ = ["TARGET_WRITE_MODES", "Target", "target_from_value"]

TARGET_WRITE_MODES: Final = ("append", "upsert", "overwrite")


@dataclass(frozen=True)
class Target:
    feature_group: str
    features: dict[str, str] = field(default_factory=dict)
    write_mode: str = "append"
    key_columns: list[str] | None = None
    event_time: str | None = None
    create_features: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.feature_group, str) and getattr(self.feature_group, "path", None):
            # A FeatureGroup object (the README's Target(feature_group=user_embeddings)): its path.
            object.__setattr__(self, "feature_group", str(self.feature_group.path))
        if not isinstance(self.feature_group, str) or not self.feature_group.strip():
            raise InvalidJobError("Target needs feature_group=, the group to write.", {"field": "target.feature_group"})
        if not isinstance(self.features, dict) or not all(
            isinstance(k, str) and k and isinstance(v, str) and v for k, v in self.features.items()
        ):
            raise InvalidJobError(
                "features maps output columns to feature names, e.g. {'clicks': 'daily_clicks'}.",
                {"field": "target.features"},
            )
        if len(set(self.features.values())) != len(self.features):
            raise InvalidJobError("Two output columns feed the same feature.", {"field": "target.features"})
        if self.write_mode not in TARGET_WRITE_MODES:
            raise InvalidJobError(
                f"Unknown write_mode {self.write_mode!r}; use one of {', '.join(TARGET_WRITE_MODES)}.",
                {"field": "target.write_mode"},
            )
        keys = self.key_columns
        if keys is not None and (
            isinstance(keys, str)
            or not isinstance(keys, list | tuple)
            or not all(isinstance(k, str) and k for k in keys)
        ):
            raise InvalidJobError("key_columns must be a list of column names.", {"field": "target.key_columns"})
        if keys is not None:
            object.__setattr__(self, "key_columns", list(keys))
        if self.write_mode == "upsert" and not keys:
            raise InvalidJobError(
                "write_mode='upsert' needs key_columns=[...]: the columns that say which row a new value replaces.",
                {"field": "target.key_columns"},
            )
        if self.event_time is not None and not (isinstance(self.event_time, str) and self.event_time):
            raise InvalidJobError("event_time names an output column.", {"field": "target.event_time"})
        if not isinstance(self.create_features, bool):
            raise InvalidJobError("create_features is True or False.", {"field": "target.create_features"})

    def feature_of(self, column: str) -> str:
        return self.features.get(column, column)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"feature_group": self.feature_group, "features": dict(self.features)}
        out["write_mode"] = self.write_mode
        if self.key_columns is not None:
            out["key_columns"] = list(self.key_columns)
        if self.event_time is not None:
            out["event_time"] = self.event_time
        if self.create_features:
            out["create_features"] = True
        return out


def target_from_value(value: Target | str | dict[str, Any]) -> Target:
    """``Target(...)``, its dict, or the README's short ``"user-signals"`` (append by name)."""
    if isinstance(value, Target):
        return value
    if isinstance(value, str):
        return Target(feature_group=value)
    if isinstance(value, dict):
        try:
            return Target(**value)
        except TypeError as exc:
            raise InvalidJobError(f"Bad target: {exc}.", {"field": "target"}) from None
    raise InvalidJobError(f"target is a Target, a group name or a mapping, got {value!r}.", {"field": "target"})
